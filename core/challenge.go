package core

import (
	"net/http"
	"strings"
)

// scheme is a set of authentication schemes a challenge may name.
type scheme uint8

const (
	schemeBearer scheme = 1 << iota // RFC 6750
	schemeDPoP                      // RFC 9449
)

// challenger renders the WWW-Authenticate challenges of one Verifier's
// errors. It is built once, from the options, and never changes, so every
// framework sends the same bytes for the same refusal.
type challenger struct {
	realm string
	// bearer is false when DPoP is required: then no Bearer challenge is
	// offered (RFC 9449 §7.1).
	bearer bool
	// dpopAlgs is the DPoP proof algorithms, space-separated, for the DPoP
	// challenge's algs parameter; "" when DPoP is not offered.
	dpopAlgs string
	// resourceMetadata is the URL of the Protected Resource Metadata
	// document (RFC 9728 §5.1), named by every challenge; "" for none.
	resourceMetadata string
}

// offered is the set of schemes the Verifier accepts.
func (ch *challenger) offered() scheme {
	var s scheme
	if ch.bearer {
		s |= schemeBearer
	}
	if ch.dpopAlgs != "" {
		s |= schemeDPoP
	}
	return s
}

// fail returns the *Error for a sentinel, with a challenge for each scheme
// offered (none for a 5xx). The challenges are rendered when asked for
// (Error.Challenges), so a refusal allocates no text it may never send.
func (ch *challenger) fail(kind, cause error) *Error {
	e := build(kind, cause)
	if e.Status < http.StatusInternalServerError {
		e.ch, e.schemes = ch, ch.offered()
	}
	return e
}

// scopeFail returns the 403 insufficient_scope *Error for a principal,
// with the one challenge of the scheme it was accepted under: DPoP for a
// DPoP-bound token, else Bearer.
func (ch *challenger) scopeFail(p *Principal, scope string, cause error) *Error {
	e := build(ErrInsufficientScope, cause)
	e.Scope = scope
	e.ch, e.schemes = ch, schemeBearer
	if p != nil && p.DPoPThumbprint != "" {
		e.schemes = schemeDPoP
	}
	return e
}

// challenges renders e's challenges, Bearer first, each with the same
// error parameters. The two error codes RFC 9449 defines for the DPoP
// scheme (invalid_dpop_proof, use_dpop_nonce) go in the DPoP challenge
// only, and the Bearer one beside it names no error: RFC 6750 has no such
// codes. The 403 form names the required scopes instead of a description,
// as RFC 6750 §3 shows.
func (ch *challenger) challenges(e *Error) []string {
	out := make([]string, 0, 2)
	for _, s := range [...]scheme{schemeBearer, schemeDPoP} {
		if e.schemes&s == 0 {
			continue
		}
		code, desc := e.Code, e.Description
		if e.kind == ErrInsufficientScope {
			desc = ""
		}
		if s == schemeBearer && (e.kind == ErrInvalidDPoPProof || e.kind == ErrUseDPoPNonce) {
			code, desc = "", ""
		}
		out = append(out, ch.render(s, code, desc, e.Scope))
	}
	return out
}

// render writes one challenge. Every value is fixed ASCII or validated
// when the Verifier is built (realm, scopes, algorithm names, the metadata
// URL), so none needs escaping.
func (ch *challenger) render(s scheme, code, desc, scope string) string {
	var b strings.Builder
	if s == schemeDPoP {
		b.WriteString(`DPoP realm="`)
	} else {
		b.WriteString(`Bearer realm="`)
	}
	b.WriteString(ch.realm)
	b.WriteByte('"')
	if ch.resourceMetadata != "" {
		b.WriteString(`, resource_metadata="`)
		b.WriteString(ch.resourceMetadata)
		b.WriteByte('"')
	}
	if s == schemeDPoP {
		b.WriteString(`, algs="`)
		b.WriteString(ch.dpopAlgs)
		b.WriteByte('"')
	}
	if code != "" {
		b.WriteString(`, error="`)
		b.WriteString(code)
		b.WriteByte('"')
	}
	if scope != "" {
		b.WriteString(`, scope="`)
		b.WriteString(scope)
		b.WriteByte('"')
	} else if code != "" && desc != "" {
		b.WriteString(`, error_description="`)
		b.WriteString(desc)
		b.WriteByte('"')
	}
	return b.String()
}
