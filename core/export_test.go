package core

// TokenCacheLen returns how many verified tokens v caches (tests only).
func TokenCacheLen(v *Verifier) int {
	if v.cache == nil {
		return 0
	}
	return v.cache.len()
}

// Sentinels returns every sentinel error in its fixed order (tests only).
func Sentinels() []error {
	out := make([]error, len(classTable))
	for i, c := range classTable {
		out[i] = c.kind
	}
	return out
}
