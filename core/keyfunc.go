package core

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"sync"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/jwksauth/jwksauth/core/internal/jwks"
)

// Keyfunc returns a key function for golang-jwt v5 (jwt.Parse,
// jwt.ParseWithClaims, a jwt.Parser) that takes its keys from this
// Verifier's own key cache. It is for the other tokens of the same issuer
// that you parse yourself — an ID token, a back-channel logout token, a
// webhook the provider signs — so that they share the cache Verify uses:
// one JWKS client, one refresh schedule, one cooldown. ctx bounds the wait
// for a JWKS refresh that an unknown kid starts; pass the request's
// context. The key function is safe for concurrent use.
//
// Security stance: keys are chosen exactly as Verify chooses them, never
// more leniently.
//
//   - The header's alg must be on the Verifier's allow-list
//     (WithAlgorithms) before any key is read. none and HS* never are, so a
//     token "signed" with HS256 and a public key as the secret is refused
//     (ErrAlgorithmNotAllowed), as are tokens whose golang-jwt signing
//     method is not golang-jwt's own for that alg.
//   - A crit header is refused (ErrUnsupportedHeader); jku, x5u, jwk and x5c
//     are never followed.
//   - The key is chosen by kid. A token without kid is served only by a key
//     set of exactly one key.
//   - The key must be of alg's family — RSA for RS* and PS*, P-256 for
//     ES256, P-384 for ES384, P-521 for ES512, Ed25519 for EdDSA — whether
//     or not its JWK states an alg, and the alg its JWK states, if any
//     (ErrKeyMismatch).
//   - Keys the Verifier skipped (RSA under 2048 bits, use "enc", unknown
//     types, …) are never returned.
//   - An unknown kid starts at most one JWKS refresh per cooldown
//     (WithUnknownKIDCooldown), shared with Verify; within the cooldown it
//     fails at once (ErrUnknownKey). When the JWKS cannot be fetched, a kid
//     that is not cached fails with ErrKeysUnavailable (AsError(err) is a
//     503 with Retry-After), and cached keys keep working within the
//     maximum staleness.
//   - When several keys share the kid (at most 4 are loaded), golang-jwt
//     receives those that fit the alg as a jwt.VerificationKeySet and
//     tries each.
//
// Sender-constrained tokens: a token whose claims golang-jwt decoded into
// jwt.MapClaims and that holds a cnf claim is refused
// (ErrBoundTokenAsBearer), since no proof or certificate is checked here
// (RFC 9449 §7.2). With claims of your own type, Keyfunc cannot see cnf:
// refuse tokens that carry one yourself, or use Authenticate.
//
// It checks no other claim: golang-jwt's parser does, with your options, and
// none of the Verifier's claim rules (audience, token type, required exp)
// applies. Pass at least jwt.WithIssuer(v.Issuer()), jwt.WithAudience
// with the audience that token type carries (your client id for an ID
// token), and jwt.WithExpirationRequired(). The verified-token cache is not
// used.
//
// Failures are *Error values, wrapped by keyfunc and golang-jwt: classify
// them with errors.Is (ErrUnknownKey, ErrKeysUnavailable, …; golang-jwt
// adds jwt.ErrTokenUnverifiable), and AsError gives the HTTP answer.
//
// It is built with github.com/MicahParks/keyfunc/v3 over a read-only
// jwkset.Storage of the Verifier's loaded key set, in step with every set
// the Verifier loads.
func (v *Verifier) Keyfunc(ctx context.Context) jwt.Keyfunc {
	if v == nil {
		return func(*jwt.Token) (any, error) { return nil, newError(defaultRealm, ErrMisconfigured, nil) }
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if v.multi != nil {
		m := &multiKeyfunc{s: v.multi, ctx: ctx, kfs: map[*Verifier]jwt.Keyfunc{}}
		return m.key
	}
	kf, err := keyfunc.New(keyfunc.Options{
		Ctx:          ctx,
		Storage:      jwkStorage{keys: v.keys},
		UseWhitelist: []jwkset.USE{jwkset.UseSig},
	})
	if err != nil { // keyfunc refuses only a nil storage; refuse every token rather than panic
		return func(*jwt.Token) (any, error) { return nil, v.fail(ErrMisconfigured, err) }
	}
	return func(t *jwt.Token) (any, error) {
		if mc, ok := t.Claims.(jwt.MapClaims); ok && mc["cnf"] != nil {
			return nil, v.fail(ErrBoundTokenAsBearer, nil)
		}
		return v.tokenKey(ctx, kf, t)
	}
}

// tokenKey is one call of a Keyfunc key function.
func (v *Verifier) tokenKey(ctx context.Context, kf keyfunc.Keyfunc, t *jwt.Token) (any, error) {
	alg, meth, err := v.keyfuncHeader(t)
	if err != nil {
		return nil, err
	}
	req := &keyRequest{alg: alg, kind: meth.kind}
	keys, err := req.read(kf.KeyfuncCtx(context.WithValue(ctx, keyRequestKey{}, req)), t)
	if err != nil {
		return nil, err
	}
	// What keyfunc hands on must be exactly what the key cache chose for
	// this token, in family and identity: nothing else reaches golang-jwt.
	if !req.chose(keys) {
		return nil, v.fail(ErrKeyMismatch, errKeyfuncDrift)
	}
	if len(keys) == 1 {
		return keys[0], nil
	}
	return jwt.VerificationKeySet{Keys: keys}, nil
}

// keyfuncHeader checks the header of a token given to a Keyfunc key
// function as Verify checks its own, and returns its alg and method.
func (v *Verifier) keyfuncHeader(t *jwt.Token) (string, method, error) {
	if t == nil || t.Header == nil {
		return "", method{}, v.fail(ErrTokenMalformed, nil)
	}
	if _, ok := t.Header["crit"]; ok {
		// RFC 7515 §4.1.11, as in Verify: no extension is understood.
		return "", method{}, v.fail(ErrUnsupportedHeader, nil)
	}
	alg, _ := t.Header["alg"].(string)
	meth, ok := v.algs[alg]
	if !ok || t.Method != meth.m {
		return "", method{}, v.fail(ErrAlgorithmNotAllowed, nil)
	}
	if kid, ok := t.Header["kid"]; ok {
		if _, ok := kid.(string); !ok {
			return "", method{}, v.fail(ErrTokenMalformed, nil)
		}
	}
	return alg, meth, nil
}

// read returns the keys keyfunc hands on for t through read: every
// candidate the key cache chose, each read through keyfunc.
func (req *keyRequest) read(read jwt.Keyfunc, t *jwt.Token) ([]jwt.VerificationKey, error) {
	got, err := read(t)
	if err != nil {
		return nil, err
	}
	if set, ok := got.(jwt.VerificationKeySet); ok {
		return set.Keys, nil // a token without kid: keyfunc read the set's only key
	}
	keys := []jwt.VerificationKey{got}
	// The other keys of a kid that several keys share.
	for req.next = 1; req.next < req.keys.Len(); req.next++ {
		k, err := read(t)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// chose reports whether keys are exactly the jwks.Candidates the key cache
// chose for the request, in order.
func (req *keyRequest) chose(keys []jwt.VerificationKey) bool {
	if len(keys) == 0 || len(keys) != req.keys.Len() {
		return false
	}
	for i, k := range keys {
		if pub, ok := req.keys.List()[i].Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(k) {
			return false
		}
	}
	return true
}

var (
	errKeyfuncDrift   = errors.New("keyfunc returned a key the key cache did not choose")
	errKeyfuncStorage = errors.New("jwksauth: the key storage of Verifier.Keyfunc only serves its key function: keys come from the issuer's JWKS, chosen per token")
)

// keyRequest carries one token's algorithm to the storage through the
// context keyfunc passes on, so that keys are chosen for the token (by kid,
// family and stated alg), never by kid alone. It also remembers the
// jwks.Candidates between keyfunc's reads of one token.
type keyRequest struct {
	alg    string
	kind   jwks.Kind
	keys   jwks.Candidates
	looked bool
	next   int // the candidate KeyRead returns
}

type keyRequestKey struct{}

// jwkStorage is the jwkset.Storage behind Verifier.Keyfunc: the key cache,
// read-only. It answers only reads that carry a keyRequest.
type jwkStorage struct{ keys *keyCache }

var _ jwkset.Storage = jwkStorage{}

// request looks the token's keys up once (refreshing for an unknown kid,
// within the cooldown, as Verify does) and returns its request.
func (s jwkStorage) request(ctx context.Context, kid string) (*keyRequest, error) {
	req, _ := ctx.Value(keyRequestKey{}).(*keyRequest)
	if req == nil {
		return nil, errKeyfuncStorage
	}
	if !req.looked {
		keys, err := s.keys.lookup(ctx, kid, req.alg, req.kind, s.keys.now())
		if err != nil {
			return nil, err
		}
		req.keys, req.looked = keys, true
	}
	return req, nil
}

// KeyRead returns the token's next candidate key.
func (s jwkStorage) KeyRead(ctx context.Context, kid string) (jwkset.JWK, error) {
	req, err := s.request(ctx, kid)
	if err != nil {
		return jwkset.JWK{}, err
	}
	if req.next >= req.keys.Len() {
		return jwkset.JWK{}, jwkset.ErrKeyNotFound
	}
	return s.keys.jwks.jwk(s.keys.current(), req.keys.List()[req.next])
}

// KeyReadAll is what keyfunc reads for a token without kid: the keys such
// a token may use, which is the set's only key or none.
func (s jwkStorage) KeyReadAll(ctx context.Context) ([]jwkset.JWK, error) {
	req, err := s.request(ctx, "")
	if err != nil {
		return nil, err
	}
	out := make([]jwkset.JWK, 0, req.keys.Len())
	for _, k := range req.keys.List() {
		j, err := s.keys.jwks.jwk(s.keys.current(), k)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

// KeyDelete refuses: the keys are the issuer's.
func (jwkStorage) KeyDelete(context.Context, string) (bool, error) { return false, errKeyfuncStorage }

// KeyReplaceAll refuses: the keys are the issuer's.
func (jwkStorage) KeyReplaceAll(context.Context, []jwkset.JWK) error { return errKeyfuncStorage }

// KeyWrite refuses: the keys are the issuer's.
func (jwkStorage) KeyWrite(context.Context, jwkset.JWK) error { return errKeyfuncStorage }

// JSON refuses: this storage is no JWKS publisher.
func (jwkStorage) JSON(context.Context) (json.RawMessage, error) { return nil, errKeyfuncStorage }

// JSONPublic refuses: this storage is no JWKS publisher.
func (jwkStorage) JSONPublic(context.Context) (json.RawMessage, error) { return nil, errKeyfuncStorage }

// JSONPrivate refuses: this storage is no JWKS publisher.
func (jwkStorage) JSONPrivate(context.Context) (json.RawMessage, error) {
	return nil, errKeyfuncStorage
}

// JSONWithOptions refuses: this storage is no JWKS publisher.
func (jwkStorage) JSONWithOptions(context.Context, jwkset.JWKMarshalOptions, jwkset.JWKValidateOptions) (json.RawMessage, error) {
	return nil, errKeyfuncStorage
}

// Marshal refuses: this storage is no JWKS publisher.
func (jwkStorage) Marshal(context.Context) (jwkset.JWKSMarshal, error) {
	return jwkset.JWKSMarshal{}, errKeyfuncStorage
}

// MarshalWithOptions refuses: this storage is no JWKS publisher.
func (jwkStorage) MarshalWithOptions(context.Context, jwkset.JWKMarshalOptions, jwkset.JWKValidateOptions) (jwkset.JWKSMarshal, error) {
	return jwkset.JWKSMarshal{}, errKeyfuncStorage
}

// jwkView holds the loaded keys in jwkset's form, for Verifier.Keyfunc.
// Each key is converted once, on its first read, and its JWK is dropped on
// the first read after a refresh that no longer lists the key: the view
// follows every set the cache loads and holds little more than one set.
type jwkView struct {
	mu   sync.Mutex
	gen  uint64 // the set the view was last pruned against
	jwks map[*jwks.Key]jwkset.JWK
}

func (w *jwkView) jwk(set *jwks.Set, k *jwks.Key) (jwkset.JWK, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if set != nil && set.Gen() != w.gen {
		for pk := range w.jwks {
			if !set.Contains(pk) {
				delete(w.jwks, pk)
			}
		}
		w.gen = set.Gen()
	}
	if j, ok := w.jwks[k]; ok {
		return j, nil
	}
	alg := jwkset.ALG(k.Alg())
	if k.Kind() == jwks.KindEd25519 {
		alg = jwkset.AlgEdDSA // jwkset's own rule for Ed25519 keys; EdDSA is their only alg
	}
	j, err := jwkset.NewJWKFromKey(k.Public(), jwkset.JWKOptions{
		Metadata: jwkset.JWKMetadataOptions{ALG: alg, KID: k.KID(), USE: jwkset.UseSig},
	})
	if err != nil {
		return jwkset.JWK{}, err
	}
	if w.jwks == nil {
		w.jwks = make(map[*jwks.Key]jwkset.JWK)
	}
	w.jwks[k] = j
	return j, nil
}
