package core

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core/authtest"
)

// The hostile-input catalogue's cache case (the rest is hostile_test.go):
// it counts the cached tokens, which only package core can see.

// TestHostileTokenCache: the verified-token cache never turns a refusal
// into an acceptance. Failures are not cached; the cache key is the whole
// token, so a twin of a cached token (same bytes under lenient base64) is
// decoded and refused on its own; and a cached token still expires.
func TestHostileTokenCache(t *testing.T) {
	iss := authtest.MustIssuer(t)
	var now atomic.Int64
	now.Store(time.Now().Unix())
	clock := func() time.Time { return time.Unix(now.Load(), 0) }
	v := newVerifier(t, iss, WithAudiences(authtest.DefaultAudience), WithLogger(slog.New(slog.DiscardHandler)), WithClock(clock))
	ctx := context.Background()
	rsa := iss.SigningKey()
	kid, _ := json.Marshal(rsa.ID)
	issuer, _ := json.Marshal(iss.URL)
	header := `{"alg":"RS256","kid":` + string(kid) + `}`
	payload := `{"iss":` + string(issuer) + `,"sub":"user-123","aud":"account","exp":` +
		strconv.FormatInt(now.Load()+120, 10) + `,"iat":` + strconv.FormatInt(now.Load(), 10) + `}`
	sign := func(k *authtest.Key) string {
		t.Helper()
		tok, err := k.Sign("RS256", []byte(header), []byte(payload))
		if err != nil {
			t.Fatalf("sign: %v", err)
		}
		return tok
	}
	good := sign(rsa)
	other, err := authtest.NewKey("RS256")
	if err != nil {
		t.Fatal(err)
	}
	forged := sign(other)
	cut := strings.LastIndexByte(good, '.')

	steps := []struct {
		name string
		tok  string
		want error
		size int // cached tokens afterwards
	}{
		{"forged token", forged, ErrSignatureInvalid, 0},
		{"forged token again (not cached)", forged, ErrSignatureInvalid, 0},
		{"genuine token", good, nil, 1},
		{"genuine token from the cache", good, nil, 1},
		{"non-canonical twin of the cached token", good[:cut+1] + lenientTwin(t, good[cut+1:]), ErrTokenMalformed, 1},
		{"cached token, exp passed (checked on every hit)", good, ErrTokenExpired, 0},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.want == ErrTokenExpired {
				now.Add(120 + 31)
			}
			_, err := v.Verify(ctx, st.tok)
			if st.want == nil && err != nil || st.want != nil && !errors.Is(err, st.want) {
				t.Fatalf("Verify = %v, want %v", err, st.want)
			}
			if n := cacheLen(v); n != st.size {
				t.Fatalf("%d cached tokens, want %d", n, st.size)
			}
			t.Logf("outcome: %v", err)
		})
	}
}

// lenientTwin sets an unused low bit of a base64url segment's last
// character: a lenient decoder reads the same bytes from a different text.
func lenientTwin(t *testing.T, seg string) string {
	t.Helper()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	out := seg[:len(seg)-1] + string(alphabet[strings.IndexByte(alphabet, seg[len(seg)-1])|1])
	a, errA := base64.RawURLEncoding.DecodeString(seg)
	b, errB := base64.RawURLEncoding.DecodeString(out)
	if len(seg)%4 < 2 || out == seg || errA != nil || errB != nil || string(a) != string(b) {
		t.Fatalf("could not build a non-canonical twin of %q", seg)
	}
	return out
}
