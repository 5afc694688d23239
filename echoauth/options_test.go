package echoauth_test

import (
	"testing"

	"github.com/jwksauth/jwksauth/echoauth"
)

// Optional applies to Middleware only. It is not a GuardOption, so
// Require does not compile with it; the options that apply to both are.
func TestGuardOptions(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opt   echoauth.Option
		guard bool
	}{
		{name: "Optional", opt: echoauth.Optional(), guard: false},
		{name: "WithErrorHandler", opt: echoauth.WithErrorHandler(nil), guard: true},
		{name: "WithSkipper", opt: echoauth.WithSkipper(nil), guard: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := tc.opt.(echoauth.GuardOption); ok != tc.guard {
				t.Errorf("%s is a GuardOption: %v, want %v", tc.name, ok, tc.guard)
			}
		})
	}
}
