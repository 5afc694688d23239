// Package conformance is the table that keeps jwksauth's framework
// adapters identical: every documented request (docs/errors.md,
// docs/dpop.md, docs/mcp.md), with the exact status, WWW-Authenticate
// fields, body and headers core answers with (Conformance), and the checks
// of an adapter's own glue — skipper, error handler, guards, principal
// storage (Adapter). Each adapter's tests mount
// the documented routes on its framework and run both through the
// framework's real entry point; core runs the table through net/http.
//
// It builds on the test kit in package authtest (issuers, keys, token
// minting) and imports testing, so it belongs in _test.go files only.
package conformance
