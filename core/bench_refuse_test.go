package core_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
)

// refuseSize is the size of every token of BenchmarkRefuse: just under the
// default size cap, the largest token a verifier decodes at all.
const refuseSize = 16000

// refusal is a hostile token of about refuseSize bytes and the sentinel it
// must be refused with.
type refusal struct {
	name string
	tok  string
	want error
}

// refusals builds the hostile rows against iss. Each is shaped to make the
// reader do as much work as a token of its size allows.
func refusals(tb testing.TB, iss *authtest.Issuer) []refusal {
	tb.Helper()
	kid := iss.SigningKey().ID
	payload := b64.EncodeToString([]byte(`{"exp":4102444800}`))
	withHeader := func(h string) string { return b64.EncodeToString([]byte(h)) + "." + payload + ".AAAA" }
	// pad grows a header JSON with members until its token nears refuseSize.
	pad := func(head string, member func(i int) string) string {
		var b strings.Builder
		b.WriteString(head)
		for i := 0; b64.EncodedLen(b.Len()+len(member(i))+1)+len(payload)+6 < refuseSize; i++ {
			b.WriteString(member(i))
		}
		b.WriteByte('}')
		return withHeader(b.String())
	}
	head := `{"alg":"RS256","kid":"` + kid + `"`

	good, err := iss.Mint(authtest.Claims{"scope": "example:note:read"})
	if err != nil {
		tb.Fatal(err)
	}
	signed := good[:strings.LastIndexByte(good, '.')]
	garbage := make([]byte, b64.DecodedLen(refuseSize-len(signed)-1))
	_, _ = rand.Read(garbage)

	return []refusal{
		{"escaped-duplicates", pad(head, func(int) string { return `,"\n":0` }), core.ErrDuplicateClaim},
		{"distinct-escaped-names", pad(head, func(i int) string { return fmt.Sprintf(`,"\u0061%d":0`, i) }), core.ErrTokenMalformed},
		{"deep-nesting", withHeader(head + `,"x":` + strings.Repeat("[", b64.DecodedLen(refuseSize-100)-len(head)-6)), core.ErrTokenMalformed},
		{"dots", strings.Repeat("a.", 1000) + strings.Repeat("a", refuseSize-2000), core.ErrTokenMalformed},
		{"garbage-signature", signed + "." + b64.EncodeToString(garbage), core.ErrSignatureInvalid},
	}
}

// signedRefusals are tokens the issuer's key really signed whose claims are
// hostile: only the issuer can make them, so they are not held to the
// bound of BenchmarkRefuse, but they drive the reader's path for large
// objects (the hash set of names, the shared buffers for escaped names).
func signedRefusals(tb testing.TB, iss *authtest.Issuer) []refusal {
	tb.Helper()
	// signedClaims grows the claims with members until the token nears
	// refuseSize, then closes them with last.
	signedClaims := func(member func(i int) string, last string) string {
		key := iss.SigningKey()
		hdr := []byte(`{"alg":"` + key.Alg + `","kid":"` + key.ID + `"}`)
		var b strings.Builder
		b.WriteString(`{"iss":"` + iss.URL + `","aud":"` + authtest.DefaultAudience + `","exp":4102444800`)
		for i := 0; b64.EncodedLen(b.Len()+len(member(i))+len(last)+1)+b64.EncodedLen(len(hdr))+350 < refuseSize; i++ {
			b.WriteString(member(i))
		}
		b.WriteString(last + "}")
		tok, err := key.Sign(key.Alg, hdr, []byte(b.String()))
		if err != nil {
			tb.Fatal(err)
		}
		return tok
	}
	return []refusal{
		{"escaped-duplicates", signedClaims(func(int) string { return `,"\n":0` }, ""), core.ErrDuplicateClaim},
		// 800 distinct names, then one that repeats the first: found last.
		{"distinct-escaped-names", signedClaims(func(i int) string { return fmt.Sprintf(`,"\u0061%d":0`, i) }, `,"\u00610":1`), core.ErrDuplicateClaim},
	}
}

// validOfSize mints a valid token of about refuseSize bytes.
func validOfSize(tb testing.TB, iss *authtest.Issuer) string {
	tb.Helper()
	small, err := iss.Mint(authtest.Claims{"scope": "example:note:read"})
	if err != nil {
		tb.Fatal(err)
	}
	fill := b64.DecodedLen(refuseSize-len(small)) - len(`,"pad":""`)
	tok, err := iss.Mint(authtest.Claims{"scope": "example:note:read", "pad": strings.Repeat("x", fill)})
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// BenchmarkRefuse measures what hostile tokens of the largest size a
// verifier decodes cost to refuse, beside the "valid" row: verifying a
// genuine token of the same size, without the token cache. Each refusal
// should take at most twice the time of the valid row and allocate no more
// bytes (docs/security.md).
func BenchmarkRefuse(b *testing.B) {
	iss, v, _ := benchSetup(b, core.WithoutTokenCache())
	benchRows(b, v, append([]refusal{{"valid", validOfSize(b, iss), nil}}, refusals(b, iss)...))
}

// BenchmarkSignedHostileClaims is BenchmarkRefuse for tokens the issuer
// signed (signedRefusals), beside the same valid row.
func BenchmarkSignedHostileClaims(b *testing.B) {
	iss, v, _ := benchSetup(b, core.WithoutTokenCache())
	benchRows(b, v, append([]refusal{{"valid", validOfSize(b, iss), nil}}, signedRefusals(b, iss)...))
}

func benchRows(b *testing.B, v *core.Verifier, rows []refusal) {
	ctx := context.Background()
	for _, r := range rows {
		b.Run(r.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(r.tok)))
			for b.Loop() {
				if _, err := v.Verify(ctx, r.tok); !errors.Is(err, r.want) {
					b.Fatalf("got %v, want %v", err, r.want)
				}
			}
		})
	}
}

// Allocations per refusal that TestRefusalsStayCheap allows: verifying the
// valid token of BenchmarkRefuse takes 15, and the reader once took 6,838
// to refuse escaped-duplicates (one or more a name). The signed tokens are
// verified first and hold large objects, whose hash set and buffers for
// escaped names grow by doubling.
const (
	maxRefusalAllocs       = 20
	maxSignedRefusalAllocs = 48
)

// TestRefusalsStayCheap holds each hostile token of BenchmarkRefuse to its
// sentinel, to a small fixed number of allocations, and to no more bytes
// allocated than verifying a valid token of the same size, so that a
// reader that regresses to work a name fails here and not only in a
// benchmark.
func TestRefusalsStayCheap(t *testing.T) {
	iss := authtest.MustIssuer(t)
	v := newVerifier(t, iss, core.WithAudiences(authtest.DefaultAudience), core.WithoutTokenCache())
	ctx := context.Background()
	valid := validOfSize(t, iss)
	if len(valid) > refuseSize+100 || len(valid) < refuseSize-400 {
		t.Fatalf("valid token is %d bytes, want about %d", len(valid), refuseSize)
	}
	verify := func(t *testing.T, tok string, want error) func() {
		return func() {
			if _, err := v.Verify(ctx, tok); !errors.Is(err, want) {
				t.Fatalf("got %v, want %v", err, want)
			}
		}
	}
	validBytes := bytesPerOp(verify(t, valid, nil), 50)
	tests := []struct {
		name      string
		rows      []refusal
		maxAllocs float64
		bytes     bool // each row also held to validBytes
	}{
		{"forged", refusals(t, iss), maxRefusalAllocs, true},
		{"signed", signedRefusals(t, iss), maxSignedRefusalAllocs, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range tt.rows {
				t.Run(r.name, func(t *testing.T) {
					if len(r.tok) > refuseSize || len(r.tok) < refuseSize-400 {
						t.Fatalf("token is %d bytes, want about %d", len(r.tok), refuseSize)
					}
					if allocs := testing.AllocsPerRun(20, verify(t, r.tok, r.want)); allocs > tt.maxAllocs {
						t.Errorf("refusing costs %.0f allocations, want at most %.0f", allocs, tt.maxAllocs)
					}
					if tt.bytes {
						if n := bytesPerOp(verify(t, r.tok, r.want), 50); n > validBytes {
							t.Errorf("refusing allocates %.0f bytes; verifying a valid token of the same size, %.0f", n, validBytes)
						}
					}
				})
			}
		})
	}
}
