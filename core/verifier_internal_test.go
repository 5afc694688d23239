package core

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core/authtest"
)

// newVerifier is a verifier of iss with opts, its keys loaded. (The
// external tests have their own, in verifier_test.go: the two packages
// cannot share a test helper.)
func newVerifier(t *testing.T, iss *authtest.Issuer, opts ...Option) *Verifier {
	t.Helper()
	v, err := New(context.Background(), append([]Option{WithIssuer(iss.URL)}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = v.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := v.Ready(ctx); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	return v
}

// wantErr checks that err is an *Error of the sentinel and the status.
func wantErr(t *testing.T, err, sentinel error, status int) {
	t.Helper()
	var e *Error
	if !errors.Is(err, sentinel) || !errors.As(err, &e) || e.Status != status {
		t.Fatalf("err = %v (%T), want %v with status %d", err, err, sentinel, status)
	}
}
