package core

// SharedKIDInternals exposes the bound on keys that share a kid to the
// external tests (jwks_test.go, tokencache_test.go). Test builds only.
var SharedKIDInternals = struct {
	// MaxKeysPerKID is how many keys of one set may share a kid.
	MaxKeysPerKID int
	// ErrKIDShared is the skip reason of the keys beyond that bound.
	ErrKIDShared error
}{maxKeysPerKID, errKIDShared}
