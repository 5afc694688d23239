module github.com/jwksauth/jwksauth/core

go 1.25

require (
	github.com/MicahParks/jwkset v0.11.4
	github.com/golang-jwt/jwt/v5 v5.3.1
)

require golang.org/x/time v0.9.0 // indirect
