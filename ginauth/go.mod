module github.com/jwksauth/jwksauth/ginauth

go 1.25
