package core

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jwksauth/jwksauth/core/internal/strictjson"
)

// registered holds what the registered claims say beyond the Principal's
// own fields: which were present, and those no field keeps.
type registered struct {
	hasExp, hasIat, hasAud, hasIss bool
	hasTokenUse, hasTyp            bool
	iat                            float64
	tokenUse, typ                  string
	clientRank                     int // index in the client-id claims of the one read
}

// claims decodes the payload strictly and applies every claim rule, in
// this order: types, time, issuer, audience and client, required claims,
// token type.
func (v *Verifier) claims(payload []byte, h header, now time.Time) (*Principal, error) {
	var buf [24]strictjson.Member
	ms, err := strictjson.ParseObject(bytesString(payload), buf[:0])
	if err != nil {
		return nil, tokenJSONError(err, ErrTokenMalformed)
	}
	p := &Principal{raw: payload, by: v}
	r, err := v.decodeClaims(ms, p)
	if err != nil {
		return nil, err
	}
	if err := v.checkTime(p, &r, now); err != nil {
		return nil, err
	}
	if err := v.checkIssuer(p, &r); err != nil {
		return nil, err
	}
	if err := v.checkAudience(p, &r); err != nil {
		return nil, err
	}
	if err := v.checkRequired(ms); err != nil {
		return nil, err
	}
	if err := v.checkType(&r, h); err != nil {
		return nil, err
	}
	return p, nil
}

// decodeClaims reads the registered claims into p and r, each by its JSON
// type, then the scope and role claims.
func (v *Verifier) decodeClaims(ms []strictjson.Member, p *Principal) (registered, error) {
	r := registered{clientRank: len(v.cfg.clientIDClaims)}
	var err error
	for _, m := range ms {
		if !v.decodeClaim(m, p, &r) {
			return r, ErrClaimType
		}
		if !v.decodeClientID(m, p, &r) {
			return r, ErrClaimType
		}
	}
	for _, c := range v.scopeClaims {
		if p.Scopes, err = c.read(p.Scopes, ms); err != nil {
			return r, err
		}
	}
	for _, c := range v.roleClaims {
		if p.Roles, err = c.read(p.Roles, ms); err != nil {
			return r, err
		}
	}
	return r, nil
}

// decodeClaim reads one member if it is a registered claim; false when it
// has the wrong JSON type.
func (v *Verifier) decodeClaim(m strictjson.Member, p *Principal, r *registered) (ok bool) {
	switch m.Key {
	case "iss":
		p.Issuer, ok = strictjson.String(m.Val)
		r.hasIss = true
	case "sub":
		p.Subject, ok = strictjson.String(m.Val)
	case "jti":
		p.ID, ok = strictjson.String(m.Val)
	case "aud":
		p.Audience, ok = strictjson.Strings(m.Val, nil)
		r.hasAud = true
	case "exp":
		p.exp, ok = strictjson.Number(m.Val)
		r.hasExp = true
	case "nbf":
		p.nbf, ok = strictjson.Number(m.Val)
		p.hasNbf = true
	case "iat":
		r.iat, ok = strictjson.Number(m.Val)
		r.hasIat = true
	case "cnf":
		ok = decodeConfirmation(m.Val, p)
	case "token_use":
		r.tokenUse, ok = strictjson.String(m.Val)
		r.hasTokenUse = true
	case "typ":
		if v.cfg.payloadTyp == "" {
			return true
		}
		r.typ, ok = strictjson.String(m.Val)
		r.hasTyp = true
	default:
		return true
	}
	return ok
}

// decodeClientID reads one member if it is a client-id claim ranked before
// the one read so far (WithClientIDClaims gives the order); false when it
// is not a string.
func (v *Verifier) decodeClientID(m strictjson.Member, p *Principal, r *registered) bool {
	for rank, name := range v.cfg.clientIDClaims {
		if m.Key == name && rank < r.clientRank {
			id, ok := strictjson.String(m.Val)
			if !ok {
				return false
			}
			p.ClientID, r.clientRank = id, rank
		}
	}
	return true
}

// checkTime requires exp, then applies iat, exp and nbf with leeway.
func (v *Verifier) checkTime(p *Principal, r *registered, now time.Time) error {
	if !r.hasExp {
		return ErrMissingClaim
	}
	p.ExpiresAt = unixTime(p.exp)
	if p.hasNbf {
		p.NotBefore = unixTime(p.nbf)
	}
	if r.hasIat {
		p.IssuedAt = unixTime(r.iat)
		if r.iat > seconds(now)+v.cfg.leeway.Seconds() {
			return ErrIssuedInFuture
		}
	}
	return v.timeValid(p, now)
}

// checkIssuer compares iss exactly with the issuer and its aliases.
func (v *Verifier) checkIssuer(p *Principal, r *registered) error {
	if !r.hasIss || (p.Issuer != v.cfg.issuer && !slices.Contains(v.cfg.issuerAliases, p.Issuer)) {
		return ErrIssuerInvalid
	}
	return nil
}

// checkAudience applies the audience and client-id rule: a present aud
// must hold a permitted audience; an absent one passes only through a
// configured client-id check, which every token must then pass.
func (v *Verifier) checkAudience(p *Principal, r *registered) error {
	cfg := v.cfg
	if cfg.insecureNoAud {
		return nil
	}
	if r.hasAud {
		if !intersects(p.Audience, cfg.audiences) {
			return ErrAudienceInvalid
		}
	} else if len(cfg.clientIDs) == 0 {
		return ErrAudienceInvalid
	}
	if len(cfg.clientIDs) > 0 && (p.ClientID == "" || !slices.Contains(cfg.clientIDs, p.ClientID)) {
		return ErrClientInvalid
	}
	return nil
}

// checkRequired requires the claims WithRequiredClaims and presets name.
func (v *Verifier) checkRequired(ms []strictjson.Member) error {
	for _, name := range v.cfg.requiredClaims {
		if !slices.ContainsFunc(ms, func(m strictjson.Member) bool { return m.Key == name }) {
			return ErrMissingClaim
		}
	}
	return nil
}

// checkType refuses tokens marked as something other than an access token.
func (v *Verifier) checkType(r *registered, h header) error {
	cfg := v.cfg
	if r.hasTokenUse && r.tokenUse != "access" {
		return ErrTokenType
	}
	if cfg.requireATJWT && !strings.EqualFold(h.typ, "at+jwt") && !strings.EqualFold(h.typ, "application/at+jwt") {
		return ErrTokenType
	}
	if cfg.payloadTyp != "" && (!r.hasTyp || !strings.EqualFold(r.typ, cfg.payloadTyp)) {
		return ErrTokenType
	}
	return nil
}

// timeValid applies exp and nbf with leeway. It runs on every cache hit too.
func (v *Verifier) timeValid(p *Principal, now time.Time) error {
	n, lw := seconds(now), v.cfg.leeway.Seconds()
	if !(n < p.exp+lw) {
		return ErrTokenExpired
	}
	if p.hasNbf && n < p.nbf-lw {
		return ErrTokenNotYetValid
	}
	return nil
}

func seconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func unixTime(f float64) time.Time {
	if f > 1e15 || f < -1e15 {
		f = math.Copysign(1e15, f)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9))
}

func intersects(have, want []string) bool {
	for _, h := range have {
		if slices.Contains(want, h) {
			return true
		}
	}
	return false
}
