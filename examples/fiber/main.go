// Command fiber serves the example notes API with Fiber and jwksauth's
// fiberauth. Run it from the repository root with `go run ./examples/fiber`;
// see examples/README.md for its settings.
package main

import (
	"os"

	"github.com/jwksauth/jwksauth/examples/internal/app"
	"github.com/jwksauth/jwksauth/examples/internal/fiberapp"
)

func main() { os.Exit(app.Main(fiberapp.Framework)) }
