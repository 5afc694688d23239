package redisstore_test

import (
	"context"
	"log"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/redisstore"
	"github.com/redis/go-redis/v9"
)

// Every replica of an API builds its Verifier on one Redis: a DPoP proof
// used at one replica is refused at all of them, and the server nonces
// (optional) are the same everywhere. ContextTimeoutEnabled lets the
// Store's per-call timeout hold.
func ExampleNew() {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: "redis:6379", ContextTimeoutEnabled: true})
	defer rdb.Close()

	store, err := redisstore.New(rdb, redisstore.WithPrefix("notes-api:dpop:"))
	if err != nil {
		log.Fatal(err)
	}
	v, err := core.New(ctx,
		core.WithIssuer("https://issuer.example.com/"),
		core.WithAudiences("https://notes.example.com"),
		core.WithDPoPReplayStore(store),
		core.WithDPoPNonces(store),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	// Hand v to the framework adapter's Middleware, as with any Verifier.
}
