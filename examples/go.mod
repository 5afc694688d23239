module github.com/jwksauth/jwksauth/examples

go 1.25
