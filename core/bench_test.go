package core_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
)

// benchToken is the token every benchmark row verifies (issue #7's shape).
func benchSetup(b *testing.B, opts ...core.Option) (*authtest.Issuer, *core.Verifier, string) {
	b.Helper()
	iss, err := authtest.NewIssuer()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(iss.Close)
	all := append([]core.Option{core.WithIssuer(iss.URL), core.WithAudiences(authtest.DefaultAudience), core.WithLogger(nil)}, opts...)
	v, err := core.New(context.Background(), all...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = v.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := v.Ready(ctx); err != nil {
		b.Fatal(err)
	}
	tok, err := iss.Mint(authtest.Claims{"scope": "example:note:read example:note:create", "sub": authtest.Omit, "jti": authtest.Omit, "iat": authtest.Omit})
	if err != nil {
		b.Fatal(err)
	}
	return iss, v, tok
}

// BenchmarkCoreFloor is sha256 + rsa.VerifyPKCS1v15 of the token alone.
func BenchmarkCoreFloor(b *testing.B) {
	iss, _, tok := benchSetup(b)
	pub := iss.SigningKey().Signer.Public().(*rsa.PublicKey)
	i := strings.LastIndexByte(tok, '.')
	sig, _ := base64.RawURLEncoding.DecodeString(tok[i+1:])
	b.ReportAllocs()
	for b.Loop() {
		sum := sha256.Sum256([]byte(tok[:i]))
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCoreVerify(b *testing.B) {
	for _, row := range []struct {
		name string
		opts []core.Option
	}{{"nocache", []core.Option{core.WithoutTokenCache()}}, {"cache", nil}} {
		b.Run(row.name, func(b *testing.B) {
			_, v, tok := benchSetup(b, row.opts...)
			need := v.RequireScopes("example:note:read")
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				p, err := v.Verify(ctx, tok)
				if err != nil {
					b.Fatal(err)
				}
				if err := need.Check(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
