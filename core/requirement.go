package core

import (
	"errors"
	"slices"
	"strings"
	"unicode/utf8"
)

// Requirement is what a route demands of a verified token: all of a set of
// scopes (or roles), or any of them. Build one with the Verifier's Require…
// methods; adapters turn it into a route guard. Matching is exact and
// case-sensitive: "note:read" is not "note:read:all".
type Requirement struct {
	ch     *challenger
	values []string
	any    bool
	roles  bool
	scope  string // space-separated values, for the challenge
	err    error
}

// RequireScopes requires every one of scopes.
func (v *Verifier) RequireScopes(scopes ...string) *Requirement {
	return v.requirement(scopes, false, false)
}

// RequireAnyScope requires at least one of scopes.
func (v *Verifier) RequireAnyScope(scopes ...string) *Requirement {
	return v.requirement(scopes, true, false)
}

// RequireRoles requires every one of roles (read from WithRoleClaims).
func (v *Verifier) RequireRoles(roles ...string) *Requirement {
	return v.requirement(roles, false, true)
}

// RequireAnyRole requires at least one of roles.
func (v *Verifier) RequireAnyRole(roles ...string) *Requirement {
	return v.requirement(roles, true, true)
}

var errBadRequirement = errors.New("jwksauth: a requirement needs at least one value: a scope is non-empty printable ASCII without space, quote or backslash; a role is non-empty UTF-8")

func (v *Verifier) requirement(values []string, any, roles bool) *Requirement {
	if v == nil {
		return nil // Check on a nil Requirement refuses with ErrMisconfigured
	}
	r := &Requirement{ch: &v.ch, values: slices.Clone(values), any: any, roles: roles}
	if len(values) == 0 {
		r.err = errBadRequirement
	}
	for _, s := range values {
		if !validValue(s, roles) {
			r.err = errBadRequirement
		}
	}
	if r.err != nil {
		// Fail closed: a guard that cannot be met refuses every request.
		v.log.Error("jwksauth: invalid route requirement; the route refuses every request", "values", values)
	} else if !roles {
		r.scope = strings.Join(values, " ")
		v.noteScopes(values)
	}
	return r
}

// validValue reports whether s can be required. A scope goes into the
// 403 challenge's scope="…" parameter (RFC 6750 §3: printable ASCII, no
// space, quote or backslash). A role never leaves the server, so any
// non-empty UTF-8 name a provider allows will do ("team lead",
// "Geschäftsführung"); note that a role claim given as one string is
// split on spaces, as scopes are, while an array keeps each name whole.
func validValue(s string, role bool) bool {
	if role {
		return s != "" && utf8.ValidString(s)
	}
	return s != "" && !strings.Contains(s, " ") && headerSafe(s)
}

// errUnbuiltRequirement is the fault of a Requirement not made by a
// Verifier's Require… methods: nil, or a zero value that names nothing.
var errUnbuiltRequirement = errors.New("jwksauth: a requirement must be built with a Verifier's Require… methods")

// unbuilt reports a nil or zero-value Requirement. Such a guard would
// demand nothing, so it refuses every request instead.
func (r *Requirement) unbuilt() bool { return r == nil || (r.err == nil && len(r.values) == 0) }

// Err reports a requirement that was built wrong (no values, or a value
// that cannot be a scope or role), or not built by a Verifier at all (nil,
// or a zero Requirement{}). Such a requirement refuses every request.
func (r *Requirement) Err() error {
	if r.unbuilt() {
		return errUnbuiltRequirement
	}
	return r.err
}

// Check returns nil when p meets the requirement, else a 403 *Error with
// error="insufficient_scope" and, for scopes, scope="<required scopes>".
// A nil p is refused as a request without credentials; a Requirement not
// built by a Verifier (nil, or a zero Requirement{} that names nothing)
// refuses with ErrMisconfigured (500) rather than let any token through.
func (r *Requirement) Check(p *Principal) error {
	if r.unbuilt() {
		return newError(defaultRealm, ErrMisconfigured, errUnbuiltRequirement)
	}
	if p == nil {
		return r.ch.fail(ErrNoCredentials, nil)
	}
	if r.err == nil && r.met(p) {
		return nil
	}
	return r.ch.scopeFail(p, r.scope, r.err)
}

func (r *Requirement) met(p *Principal) bool {
	have := p.Scopes
	if r.roles {
		have = p.Roles
	}
	for _, want := range r.values {
		ok := slices.Contains(have, want)
		if ok && r.any {
			return true
		}
		if !ok && !r.any {
			return false
		}
	}
	return !r.any
}
