package core

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/MicahParks/jwkset"
	"github.com/jwksauth/jwksauth/core/internal/jwks"
)

// The storage behind Verifier.Keyfunc answers only its key function: a
// read without a token's request chooses nothing, and it never takes keys
// from anybody but the issuer's JWKS.
func TestKeyfuncStorageIsReadOnly(t *testing.T) {
	s := jwkStorage{keys: &keyCache{}}
	ctx := context.Background()
	_, errRead := s.KeyRead(ctx, "kid")
	_, errAll := s.KeyReadAll(ctx)
	_, errDelete := s.KeyDelete(ctx, "kid")
	_, errJSON := s.JSON(ctx)
	_, errPublic := s.JSONPublic(ctx)
	_, errPrivate := s.JSONPrivate(ctx)
	_, errJSONOpts := s.JSONWithOptions(ctx, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
	_, errMarshal := s.Marshal(ctx)
	_, errMarshalOpts := s.MarshalWithOptions(ctx, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
	tests := []struct {
		name string
		err  error
	}{
		{"KeyRead without a request", errRead},
		{"KeyReadAll without a request", errAll},
		{"KeyDelete", errDelete},
		{"KeyReplaceAll", s.KeyReplaceAll(ctx, nil)},
		{"KeyWrite", s.KeyWrite(ctx, jwkset.JWK{})},
		{"JSON", errJSON},
		{"JSONPublic", errPublic},
		{"JSONPrivate", errPrivate},
		{"JSONWithOptions", errJSONOpts},
		{"Marshal", errMarshal},
		{"MarshalWithOptions", errMarshalOpts},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(tc.err, errKeyfuncStorage) {
				t.Fatalf("err = %v, want errKeyfuncStorage", tc.err)
			}
		})
	}
}

// The jwkset view follows the loaded sets: the JWK of a key that left the
// set is dropped on the first read after the refresh; the JWK of a key that
// stayed is the one built before.
func TestKeyfuncViewFollowsTheLoadedSet(t *testing.T) {
	newKey := func(kid string) *jwks.Key {
		pk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return jwks.NewKey(kid, "", jwks.KindP256, &pk.PublicKey)
	}
	a, b := newKey("a"), newKey("b")
	kc := &keyCache{}
	set := jwks.NewSet(1, a, b)
	for _, k := range []*jwks.Key{a, b} {
		j, err := kc.jwks.jwk(set, k)
		if err != nil {
			t.Fatal(err)
		}
		if j.Marshal().KID != k.KID() || j.Key() != k.Public() {
			t.Fatalf("JWK of %q: kid %q, key %v", k.KID(), j.Marshal().KID, j.Key())
		}
	}
	set = jwks.NewSet(2, a)
	if _, err := kc.jwks.jwk(set, a); err != nil {
		t.Fatal(err)
	}
	if _, held := kc.jwks.jwks[b]; held || len(kc.jwks.jwks) != 1 {
		t.Fatalf("the view holds %d JWKs (b held: %v), want a's only", len(kc.jwks.jwks), held)
	}
}
