package core

// Defaults and limits the external tests reason about, unexported in the
// package (tests only).
const (
	MaxTokenCacheEntries = maxTokenCacheEntries
)
