package core_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
)

// TestIssuersOwnClientAndPresetRules: beside its audience, each issuer of
// WithIssuers has its own client-id rule and its own preset, and one
// issuer's rules never apply to another's tokens. The preset issuer gives
// no URL: the preset names it (RFC 9068 here, which also demands typ
// at+jwt and client_id, sub, iat and jti, RFC 9068 §2.2).
func TestIssuersOwnClientAndPresetRules(t *testing.T) {
	profiled, plain := authtest.MustIssuer(t), authtest.MustIssuer(t)
	v := readyVerifier(t, core.WithIssuers(
		core.Issuer{Options: []core.Option{core.RFC9068(profiled.URL, "urn:notes")}},
		core.Issuer{URL: plain.URL, Options: []core.Option{core.WithAudiences("api"), core.WithClientIDs("app-1")}},
	))
	at := authtest.Header("typ", "at+jwt")
	profiledClaims := authtest.Claims{"aud": "urn:notes", "client_id": "anyone", "scope": "a"}
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"preset issuer, RFC 9068 token", profiled.MustMint(t, profiledClaims, at), nil},
		{"preset issuer, typ JWT", profiled.MustMint(t, profiledClaims), core.ErrTokenType},
		{"preset issuer, no client_id", profiled.MustMint(t, authtest.Claims{"aud": "urn:notes", "client_id": authtest.Omit}, at), core.ErrMissingClaim},
		// the other issuer's client-id list is not the preset issuer's
		{"preset issuer, a client the other issuer does not permit", profiled.MustMint(t, authtest.Claims{"aud": "urn:notes", "client_id": "app-2"}, at), nil},
		{"plain issuer, permitted client", plain.MustMint(t, authtest.Claims{"aud": "api", "azp": "app-1"}), nil},
		{"plain issuer, another client", plain.MustMint(t, authtest.Claims{"aud": "api", "azp": "app-2"}), core.ErrClientInvalid},
		// the preset's typ rule is not the plain issuer's
		{"plain issuer, typ JWT", plain.MustMint(t, authtest.Claims{"aud": "api", "azp": "app-1"}), nil},
		{"plain issuer, the preset's audience", plain.MustMint(t, authtest.Claims{"aud": "urn:notes", "azp": "app-1"}), core.ErrAudienceInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), tt.token)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}
