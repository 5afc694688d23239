package core_test

// plainGET is the request line of the test kit's hand-made Credentials: a
// GET over plain http to example.test, without a client certificate.
// Embedding it gives a type the request methods of core.Credentials.
type plainGET struct{}

func (plainGET) Method() string                     { return "GET" }
func (plainGET) URL() (scheme, host, target string) { return "http", "example.test", "/" }
func (plainGET) PeerCertificate() []byte            { return nil }
