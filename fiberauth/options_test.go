package fiberauth_test

import (
	"testing"

	"github.com/jwksauth/jwksauth/fiberauth"
)

// Optional applies to Middleware only. It is not a GuardOption, so
// Require does not compile with it; the options that apply to both are.
func TestGuardOptions(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opt   fiberauth.Option
		guard bool
	}{
		{name: "Optional", opt: fiberauth.Optional(), guard: false},
		{name: "WithErrorHandler", opt: fiberauth.WithErrorHandler(nil), guard: true},
		{name: "WithSkipper", opt: fiberauth.WithSkipper(nil), guard: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := tc.opt.(fiberauth.GuardOption); ok != tc.guard {
				t.Errorf("%s is a GuardOption: %v, want %v", tc.name, ok, tc.guard)
			}
		})
	}
}
