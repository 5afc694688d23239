package core

// TokenCacheLen returns how many verified tokens v caches (tests only).
func TokenCacheLen(v *Verifier) int {
	if v.cache == nil {
		return 0
	}
	return v.cache.len()
}
