module github.com/jwksauth/jwksauth/fiberauth

go 1.25
