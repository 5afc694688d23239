// Command gin serves the example notes API with Gin and jwksauth's ginauth.
// Run it from the repository root with `go run ./examples/gin`; see
// examples/README.md for its settings.
package main

import (
	"os"

	"github.com/jwksauth/jwksauth/examples/internal/app"
	"github.com/jwksauth/jwksauth/examples/internal/ginapp"
)

func main() { os.Exit(app.Main(ginapp.Framework)) }
