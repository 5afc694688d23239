// Package loadtest holds the load test: it starts each example
// app (Gin, Echo, Fiber) in-process on loopback against a local issuer and
// sends it, concurrently, a mix of valid, invalid and malicious requests.
// No valid request may fail, no invalid one may pass, no answer may be a
// 5xx, and the heap must stay bounded while every malicious request carries
// a never-seen-before token.
//
// `make test` runs it in its bounded form (a few thousand requests per app,
// loopback only). For a longer run:
//
//	cd examples && go test ./loadtest -run Load -count=1 -args -requests=50000 -workers=32
package loadtest
