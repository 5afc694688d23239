package core

import (
	"slices"
	"strings"

	"github.com/jwksauth/jwksauth/core/internal/strictjson"
)

// claimName is a configured scope or role claim. Its name is first matched
// literally against the token's top-level claims, so that namespaced names
// holding dots ("https://notes.example.com/roles", as Auth0 requires of
// custom claims) are read whole. Only when the token has no top-level claim
// of exactly that name is a dotted name read as a path into nested objects
// ("realm_access.roles").
type claimName struct {
	name string
	path []string // name split on dots; one element when it has none
}

func claimNames(names []string) []claimName {
	out := make([]claimName, len(names))
	for i, n := range names {
		path := strings.Split(n, ".")
		if strings.ContainsAny(path[0], "/:") {
			// A name whose first segment holds "/" or ":" is a URI (a
			// namespaced claim, "https://notes.example.com/roles"), never
			// a path: its dots must not let nested objects that spell it
			// stand in for it. Later segments may hold them
			// ("resource_access.urn:notes:api.roles").
			path = []string{n}
		}
		out[i] = claimName{name: n, path: path}
	}
	return out
}

// read appends the values of c found among the token's top-level claims ms.
func (c claimName) read(dst []string, ms []strictjson.Member) ([]string, error) {
	nested, found := "", false
	for _, m := range ms {
		if m.Key == c.name {
			return collect(dst, m.Val, nil)
		}
		if len(c.path) > 1 && m.Key == c.path[0] {
			nested, found = m.Val, true
		}
	}
	if !found {
		return dst, nil
	}
	return collect(dst, nested, c.path[1:])
}

// collect appends the values of a scope or role claim: a space-separated
// string or an array of strings, reached through nested objects by path.
// Any other shape refuses the token.
func collect(dst []string, raw string, path []string) ([]string, error) {
	raw, err := claimAt(raw, path)
	if err != nil || raw == "" {
		return dst, err
	}
	if raw[0] == '"' {
		return appendScopeString(dst, raw)
	}
	start := len(dst)
	vals, ok := strictjson.Strings(raw, nil)
	if !ok || raw[0] != '[' {
		return dst[:start], ErrClaimType
	}
	for _, s := range vals {
		if s != "" && !slices.Contains(dst, s) {
			dst = append(dst, s)
		}
	}
	return dst, nil
}

// claimAt returns the raw value reached from the object raw through the
// names of path, "" when a name is missing.
func claimAt(raw string, path []string) (string, error) {
	for _, name := range path {
		ms, err := strictjson.ParseObject(raw, nil)
		if err != nil {
			return "", tokenJSONError(err, ErrClaimType)
		}
		if raw, _ = strictjson.Lookup(ms, name); raw == "" {
			return "", nil
		}
	}
	return raw, nil
}

// appendScopeString appends the values of raw, a JSON string of values
// separated by spaces, that dst does not hold yet.
func appendScopeString(dst []string, raw string) ([]string, error) {
	s, ok := strictjson.String(raw)
	if !ok {
		return dst, ErrClaimType
	}
	// Unescaping made s a new string: the values split from it would
	// each keep all of it alive, which the token cache's accounting
	// (entrySize counts each value once) would not see; copy them.
	// Without escapes, s and its values are views of the payload.
	escaped := strings.IndexByte(raw, '\\') >= 0
	dst = slices.Grow(dst, min(strings.Count(s, " ")+1, 32)) // one allocation for the usual few scopes
	for f := range strings.SplitSeq(s, " ") {
		if f != "" && !slices.Contains(dst, f) {
			if escaped {
				f = strings.Clone(f)
			}
			dst = append(dst, f)
		}
	}
	return dst, nil
}
