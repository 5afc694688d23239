package core_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
)

// bufferCredentials returns views of a buffer the test overwrites after the
// call, as fiberauth returns views of fasthttp's reused header buffer.
type bufferCredentials struct {
	plainGET
	auth []byte
}

func (b bufferCredentials) Header(name string) []string {
	if !strings.EqualFold(name, "Authorization") {
		return nil
	}
	return []string{unsafe.String(unsafe.SliceData(b.auth), len(b.auth))}
}
func (bufferCredentials) RawQuery() string       { return "" }
func (bufferCredentials) Cookie(string) []string { return nil }

// TestCredentialsAreNotRetained backs the promise on core.Credentials that
// adapters may hand core views of reused buffers: once Authenticate has
// returned, overwriting the buffer changes nothing it returned or cached.
func TestCredentialsAreNotRetained(t *testing.T) {
	iss := authtest.MustIssuer(t, authtest.WithAlgorithm("ES256"))
	tok := iss.MustMint(t, authtest.Claims{"scope": "example:note:read example:note:create", "sub": "alice"})
	bad := iss.MustMint(t, authtest.Claims{"aud": "another-api"})
	ctx := context.Background()
	overwrite := func(b []byte) {
		for i := len("Bearer "); i < len(b); i++ {
			b[i] = 'A' // still b64token characters, so the next read parses
		}
	}
	for _, tc := range []struct {
		name string
		opts []core.Option
	}{{"cache", nil}, {"nocache", []core.Option{core.WithoutTokenCache()}}} {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier(t, iss, append([]core.Option{core.WithAudiences(authtest.DefaultAudience)}, tc.opts...)...)
			buf := []byte("Bearer " + tok)
			p, err := v.Authenticate(ctx, bufferCredentials{auth: buf})
			if err != nil {
				t.Fatal(err)
			}
			claims := string(p.Claims())
			sub, scopes, iss0, kid := strings.Clone(p.Subject), fmt.Sprint(p.Scopes), strings.Clone(p.Issuer), strings.Clone(p.KeyID)
			overwrite(buf)
			if string(p.Claims()) != claims || p.Subject != sub || fmt.Sprint(p.Scopes) != scopes || p.Issuer != iss0 || p.KeyID != kid {
				t.Fatal("the principal changed when the credential buffer was reused")
			}
			if _, err := v.Authenticate(ctx, bufferCredentials{auth: buf}); err == nil {
				t.Fatal("the overwritten buffer was accepted")
			}
			again, err := v.Authenticate(ctx, bufferCredentials{auth: []byte("Bearer " + tok)})
			if err != nil || string(again.Claims()) != claims {
				t.Fatalf("the token itself, presented again: %v", err)
			}

			buf = []byte("Bearer " + bad)
			_, err = v.Authenticate(ctx, bufferCredentials{auth: buf})
			if !errors.Is(err, core.ErrAudienceInvalid) {
				t.Fatalf("err %v, want ErrAudienceInvalid", err)
			}
			msg, body := err.Error(), string(core.AsError(err).Body())
			overwrite(buf)
			if err.Error() != msg || string(core.AsError(err).Body()) != body {
				t.Fatal("the error changed when the credential buffer was reused")
			}
		})
	}
}
