package jwks_test

import (
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core/authtest"
	"github.com/jwksauth/jwksauth/core/internal/jwks"
)

var b64 = base64.RawURLEncoding

// jwkOf returns k's public JWK under kid, changed by edit.
func jwkOf(t *testing.T, k *authtest.Key, kid string, edit func(m map[string]any)) json.RawMessage {
	t.Helper()
	m := k.JWK()
	m["kid"] = kid
	if edit != nil {
		edit(m)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func newKey(t *testing.T, alg string) *authtest.Key {
	t.Helper()
	k, err := authtest.NewKey(alg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// edJWK is an Ed25519 JWK whose x is the hex-encoded point.
func edJWK(t *testing.T, kid, point string) json.RawMessage {
	t.Helper()
	b, err := hex.DecodeString(point)
	if err != nil {
		t.Fatal(err)
	}
	return json.RawMessage(`{"kty":"OKP","crv":"Ed25519","use":"sig","alg":"EdDSA","kid":"` + kid + `","x":"` + b64.EncodeToString(b) + `"}`)
}

// ecKeyWithShortX generates P-256 keys until one has an x coordinate
// whose first octet is zero (one key in 256).
func ecKeyWithShortX(t *testing.T) *authtest.Key {
	t.Helper()
	for range 1 << 14 {
		k := newKey(t, "ES256")
		if k.Signer.Public().(*ecdsa.PublicKey).X.BitLen() <= 248 {
			return k
		}
	}
	t.Fatal("no P-256 key with a leading zero octet in x")
	return nil
}

// parse reads body as a first fetch.
func parse(t *testing.T, body []byte) (*jwks.Set, []jwks.Skipped, error) {
	t.Helper()
	return jwks.Parse(body, nil, time.Now())
}

// A key outlives the fetch that loaded it (unchanged keys are carried over
// refreshes). It must not keep that fetch's body alive: a provider adding
// one key per refresh to a body near the size cap would otherwise pin one
// body per refresh.
func TestKeysDoNotPinTheJWKSBody(t *testing.T) {
	k := newKey(t, "RS256")
	jwk := string(jwkOf(t, k, "k1", nil))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	body := []byte(`{"padding":"` + strings.Repeat("A", 1<<20) + `","keys":[` + jwk + `]}`)
	set, _, err := parse(t, body)
	if err != nil || set.Count() != 1 {
		t.Fatalf("parse: %v, %v", set, err)
	}
	body = nil
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(set)
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 256<<10 {
		t.Fatalf("a one-key set keeps %d KiB alive: its key points into the 1 MiB body", grew>>10)
	}
}

// Thousands of tiny JWKs fit the size cap; only the first MaxJWKs are read,
// and the rest are one skip reason, not one log line and hook call each.
func TestKeyCountIsBounded(t *testing.T) {
	k := newKey(t, "ES256")
	var b strings.Builder
	b.WriteString(`{"keys":[` + string(jwkOf(t, k, "k1", nil)))
	for i := range 5000 {
		fmt.Fprintf(&b, `,{"kid":"junk-%d"}`, i)
	}
	b.WriteString(`]}`)
	set, skipped, err := parse(t, []byte(b.String()))
	if err != nil || set.Count() != 1 {
		t.Fatalf("parse: %v, %v", set, err)
	}
	if len(skipped) != jwks.MaxJWKs {
		t.Fatalf("%d skip reasons, want %d (MaxJWKs-1 junk keys read, and one for the rest)", len(skipped), jwks.MaxJWKs)
	}
	if !errors.Is(skipped[0].Err, jwks.ErrTooManyKeys) {
		t.Fatalf("first skip reason %v, want ErrTooManyKeys", skipped[0].Err)
	}
}

// TestKeyChecksKeepGoodKeys: the point checks refuse no genuine key. Random
// Ed25519 keys, the base point, RFC 8032's first test key, a point whose y
// is small, and EC keys whose coordinates start with a zero octet (written
// at full size, as RFC 7518 §6.2.1.2 requires) all load.
func TestKeyChecksKeepGoodKeys(t *testing.T) {
	t.Parallel()
	var keys []string
	for i := range 200 {
		k := newKey(t, "EdDSA")
		keys = append(keys, string(jwkOf(t, k, "ed-"+strconv.Itoa(i), nil)))
	}
	for i, p := range []string{
		"5866666666666666666666666666666666666666666666666666666666666666", // the base point B
		"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", // RFC 8032 §7.1, TEST 1
		"0300000000000000000000000000000000000000000000000000000000000000", // y = 3, large order
		"0300000000000000000000000000000000000000000000000000000000000080", // its negation
	} {
		keys = append(keys, string(edJWK(t, "ed-fixed-"+strconv.Itoa(i), p)))
	}
	short := ecKeyWithShortX(t)
	keys = append(keys, string(jwkOf(t, short, "ec-leading-zero", nil)))
	for _, alg := range []string{"ES256", "ES384", "ES512"} {
		keys = append(keys, string(jwkOf(t, newKey(t, alg), "ec-"+alg, nil)))
	}
	set, skipped, err := parse(t, []byte(`{"keys":[`+strings.Join(keys, ",")+`]}`))
	if err != nil || set.Count() != len(keys) || len(skipped) != 0 {
		t.Fatalf("Parse = %v, skipped %v, %v; want all %d", set, skipped, err, len(keys))
	}
}

// Lookup never returns more than MaxKeysPerKID keys, whatever the set holds
// (Parse already skips the keys beyond the bound; this is the second wall),
// and returns those that fit the alg, in JWKS order.
func TestLookupIsBounded(t *testing.T) {
	var ks []*jwks.Key
	for range jwks.MaxKeysPerKID + 2 {
		ks = append(ks, jwks.NewKey("k", "", jwks.KindRSA, nil))
	}
	ec := jwks.NewKey("k", "", jwks.KindP256, nil)
	set := jwks.NewSet(1, append([]*jwks.Key{ec}, ks...)...)
	got, found := set.Lookup("k", jwks.KindRSA, "RS256")
	if !found || got.Len() != jwks.MaxKeysPerKID {
		t.Fatalf("Lookup: %d keys (found %v), want %d", got.Len(), found, jwks.MaxKeysPerKID)
	}
	for i, k := range got.List() {
		if k != ks[i] {
			t.Fatalf("key %d is not the JWKS's key %d of that family", i, i)
		}
	}
}
