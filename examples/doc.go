// Package examples holds no code: this module is jwksauth's example notes
// API, served the same way by three web frameworks.
//
//   - examples/gin, examples/echo, examples/fiber: the three commands,
//     started from the repository root with go run ./examples/<framework>.
//   - examples/internal/app: what they share (configuration from the
//     environment, the route table, the development issuer, start-up and
//     graceful shutdown) and each framework's few lines of route mounting.
//
// All three answer every request with the same status, WWW-Authenticate
// header and JSON body; the tests of examples/internal/app hold them to it.
package examples
