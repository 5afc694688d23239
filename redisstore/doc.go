// Package redisstore keeps the DPoP replay cache and server nonces of
// jwksauth (RFC 9449 §11.1 and §9) in Redis or Valkey, so that a fleet of
// replicas behind one load balancer behaves as one server: a proof used at
// one replica is refused at every other, and a nonce issued by one is
// accepted by all.
//
// One *Store serves as both core.ReplayStore and core.NonceSource:
//
//	rdb := redis.NewClient(&redis.Options{Addr: "redis:6379", ContextTimeoutEnabled: true})
//	store, err := redisstore.New(rdb)
//	// ...
//	v, err := core.New(ctx,
//		core.WithIssuer(issuer),
//		core.WithAudiences(audience),
//		core.WithDPoPReplayStore(store),
//		core.WithDPoPNonces(store), // optional: server nonces
//	)
//
// Each proof costs one round trip (SET key 1 NX PX ttl); with server nonces
// on, checking the proof's nonce costs one more (a short Lua script). Any
// failure of Redis — refused connection, timeout, error reply — is returned
// as an error, which the Verifier answers with 503 and Retry-After
// (core.ErrProofStoreUnavailable): an outage never lets a proof through.
//
// The module depends on github.com/redis/go-redis/v9; core and the framework
// adapters do not. See docs/redis.md for running many replicas.
package redisstore
