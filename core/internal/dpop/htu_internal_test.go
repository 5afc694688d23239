package dpop

import "testing"

func TestNormalizeURI(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"plain", "https://api.example.com/notes", "https://api.example.com/notes", true},
		{"empty path", "https://api.example.com", "https://api.example.com/", true},
		{"case", "HTTPS://Api.Example.COM/Notes", "https://api.example.com/Notes", true},
		{"default port", "http://h:80/", "http://h/", true},
		{"port of the other scheme kept", "https://h:80/", "https://h:80/", true},
		{"empty port", "https://h:/x", "https://h/x", true},
		{"leading zeros in port", "https://h:0443/x", "https://h/x", true},
		{"port 8443", "https://h:08443/x", "https://h:8443/x", true},
		{"IPv6 literal", "https://[::1]:443/x", "https://[::1]/x", true},
		{"IPv6 literal with port", "https://[::1]:8443/x", "https://[::1]:8443/x", true},
		{"query and fragment", "https://h/x?y=1#z", "https://h/x", true},
		{"fragment with a question mark", "https://h/x#a?b", "https://h/x", true},
		{"percent hex case", "https://h/a%2fb%c3%a9", "https://h/a%2Fb%C3%A9", true},
		{"percent unreserved", "https://h/%7Euser/%41%2D", "https://h/~user/A-", true},
		{"raw characters encoded", "https://h/a b/é", "https://h/a%20b/%C3%A9", true},
		{"lone percent encoded", "https://h/100%", "https://h/100%25", true},
		{"RFC 3986 5.2.4 example", "https://h/a/b/c/./../../g", "https://h/a/g", true},
		{"dot segment at the end", "https://h/a/b/.", "https://h/a/b/", true},
		{"dot-dot at the end", "https://h/a/b/..", "https://h/a/", true},
		{"dot-dot above the root", "https://h/../../x", "https://h/x", true},
		{"encoded dot segment", "https://h/a/%2E%2e/x", "https://h/x", true},
		{"dots in names kept", "https://h/a.b/..c/.d", "https://h/a.b/..c/.d", true},
		{"empty segments kept", "https://h//a//", "https://h//a//", true},
		{"no scheme", "//h/x", "", false},
		{"ftp", "ftp://h/x", "", false},
		{"userinfo", "https://u:p@h/x", "", false},
		{"empty host", "https:///x", "", false},
		{"port not a number", "https://h:x/", "", false},
		{"port too large", "https://h:65536/", "", false},
		{"unclosed IP literal", "https://[::1/x", "", false},
		{"text after IP literal", "https://[::1]x/", "", false},
		{"percent in host", "https://h%41/", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := normalizeURI(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("normalizeURI(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// FuzzNormalizeURI: normalizeURI must not panic, and its normal form is a
// fixed point (RFC 3986 §6.2.2), so that a client's htu and the request URI
// compare equal however either was spelled.
func FuzzNormalizeURI(f *testing.F) {
	for _, s := range []string{"https://api.example.com/notes", "HTTPS://H:0443/a/%2e%2E/b%7e?q#f", "http://[::1]:80/a b/é/../", "https://h/100%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := normalizeURI(s)
		if !ok {
			return
		}
		again, ok := normalizeURI(n)
		if !ok || again != n {
			t.Fatalf("normalizeURI(%q) = %q, but normalizeURI(%q) = %q, %v", s, n, n, again, ok)
		}
	})
}
