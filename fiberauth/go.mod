module github.com/jwksauth/jwksauth/fiberauth

go 1.25.0

require (
	github.com/gofiber/fiber/v2 v2.52.15
	github.com/jwksauth/jwksauth/core v0.0.0
	github.com/valyala/fasthttp v1.51.0
)

require (
	github.com/MicahParks/jwkset v0.11.4 // indirect
	github.com/MicahParks/keyfunc/v3 v3.9.1 // indirect
	github.com/andybalholm/brotli v1.1.0 // indirect
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/klauspost/compress v1.17.9 // indirect
	github.com/mattn/go-colorable v0.1.13 // indirect
	github.com/mattn/go-isatty v0.0.20 // indirect
	github.com/mattn/go-runewidth v0.0.16 // indirect
	github.com/rivo/uniseg v0.2.0 // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
	github.com/valyala/tcplisten v1.0.0 // indirect
	golang.org/x/sys v0.28.0 // indirect
	golang.org/x/time v0.15.0 // indirect
)

replace github.com/jwksauth/jwksauth/core => ../core
