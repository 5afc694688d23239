module github.com/jwksauth/jwksauth/echoauth

go 1.25
