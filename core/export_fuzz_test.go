package core

import "time"

// Test-only hooks into core's internals, for the JWKS fuzz target of package
// core_test. Nothing here is compiled into the
// library.

// LoadedKey describes one usable key of a parsed JWKS.
type LoadedKey struct {
	KID, Alg string
	Kind     string // "RSA", "P-256", "P-384", "P-521" or "Ed25519"
	Key      any    // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
}

// ParsedJWKS is what the JWKS parser made of one body.
type ParsedJWKS struct {
	Keys    []LoadedKey // the usable keys that have a kid, and the key of a one-key set
	Count   int         // usable keys, including kid-less ones of a larger set
	Skipped int         // keys skipped as unusable
	Only    bool        // the set has exactly one usable key (used for tokens without kid)
}

// ParseJWKS runs the JWKS parser on body.
func ParseJWKS(body []byte) (ParsedJWKS, error) {
	set, skip, err := parseJWKS(body, nil, time.Now())
	if err != nil {
		return ParsedJWKS{}, err
	}
	names := map[keyKind]string{kindRSA: "RSA", kindP256: "P-256", kindP384: "P-384", kindP521: "P-521", kindEd25519: "Ed25519"}
	out := ParsedJWKS{Count: set.count, Skipped: len(skip), Only: set.only != nil}
	seen := map[*publicKey]bool{}
	add := func(k *publicKey) {
		if k != nil && !seen[k] {
			seen[k] = true
			out.Keys = append(out.Keys, LoadedKey{KID: k.kid, Alg: k.alg, Kind: names[k.kind], Key: k.key})
		}
	}
	add(set.only)
	for _, ks := range set.byKID {
		for _, k := range ks {
			add(k)
		}
	}
	return out, nil
}
