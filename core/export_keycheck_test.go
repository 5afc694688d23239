package core

// KeyCheckInternals exposes the skip reasons of the key point checks
// (keycheck.go) to the external tests. It exists only in test builds.
var KeyCheckInternals = struct {
	ErrKeySmallOrder, ErrKeyEncoding, ErrKeyOffCurve error
}{
	ErrKeySmallOrder: errKeySmallOrder,
	ErrKeyEncoding:   errKeyEncoding,
	ErrKeyOffCurve:   errKeyOffCurve,
}
