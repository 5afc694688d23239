// Command echo serves the example notes API with Echo and jwksauth's
// echoauth. Run it from the repository root with `go run ./examples/echo`;
// see examples/README.md for its settings.
package main

import (
	"os"

	"github.com/jwksauth/jwksauth/examples/internal/app"
	"github.com/jwksauth/jwksauth/examples/internal/echoapp"
)

func main() { os.Exit(app.Main(echoapp.Framework)) }
