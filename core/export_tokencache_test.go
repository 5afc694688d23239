package core

// TokenCacheStats returns how many verified tokens v caches and the bytes
// the cache accounts for them (tests only). It also checks the accounting:
// ok is false when the accounted bytes differ from the sum of the entries'
// sizes, which can only be checked while no verification runs.
func TokenCacheStats(v *Verifier) (entries int, bytes int64, ok bool) {
	c := v.cache
	if c == nil {
		return 0, 0, true
	}
	var sum int64
	for b := range c.buckets {
		for i := range c.buckets[b].slots[:c.ways] {
			if e := c.buckets[b].slots[i].Load(); e != nil {
				entries++
				sum += int64(e.size)
			}
		}
	}
	bytes = c.bytes.Load()
	return entries, bytes, bytes == sum && bytes <= c.maxBytes
}

// TokenEntrySize is the accounted size of p's cache entry (tests only).
func TokenEntrySize(p *Principal) int64 { return entrySize(p) }

// TokenCacheSlots is the number of slots of v's cache table (tests only).
func TokenCacheSlots(v *Verifier) int {
	if v.cache == nil {
		return 0
	}
	return len(v.cache.buckets) * v.cache.ways
}
