package core

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"

	"github.com/jwksauth/jwksauth/core/internal/strictjson"
)

// thumbprintLen is the length of a base64url SHA-256 thumbprint: a cnf.jkt
// (RFC 9449 §6.1) or a cnf x5t#S256 (RFC 8705 §3.1).
const thumbprintLen = 43

// maxClientCert caps the Client-Cert header before it is decoded: a
// certificate chain's leaf is rarely over 4 KiB.
const maxClientCert = 16 << 10

// decodeConfirmation reads the cnf claim (RFC 7800) into p: false when it
// is not a JSON object. A confirmation method core cannot check (any member
// but jkt and x5t#S256), or one of those that is not a thumbprint, marks p
// as holding an unsupported binding, which no request satisfies.
func decodeConfirmation(raw string, p *Principal) bool {
	var buf [4]strictjson.Member
	ms, err := strictjson.ParseObjectMax(raw, buf[:0], 8)
	if err != nil {
		p.unsupportedCnf = true
		return len(raw) > 0 && raw[0] == '{'
	}
	if len(ms) == 0 {
		p.unsupportedCnf = true
	}
	for _, m := range ms {
		s, ok := strictjson.String(m.Val)
		if !ok || !isThumbprint(s) {
			p.unsupportedCnf = true
			continue
		}
		switch m.Key {
		case "jkt":
			p.DPoPThumbprint = s
		case "x5t#S256":
			p.CertificateThumbprint = s
		default:
			p.unsupportedCnf = true
		}
	}
	return true
}

// isThumbprint reports whether s is 43 characters of unpadded base64url.
func isThumbprint(s string) bool {
	if len(s) != thumbprintLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// checkCertificate compares a certificate-bound token's x5t#S256 with the
// SHA-256 of the client certificate: the TLS connection's, or, under
// WithClientCertFromTrustedProxy, the Client-Cert header's.
func (v *Verifier) checkCertificate(c Credentials, p *Principal) error {
	der := c.PeerCertificate()
	if der == nil && v.cfg.proxyCert {
		der = clientCertHeader(c.Header("Client-Cert"))
	}
	if der == nil {
		return v.fail(ErrCertificateMismatch, nil)
	}
	sum := sha256.Sum256(der)
	var got [thumbprintLen]byte
	base64.RawURLEncoding.Encode(got[:], sum[:])
	if subtle.ConstantTimeCompare(got[:], []byte(p.CertificateThumbprint)) != 1 {
		return v.fail(ErrCertificateMismatch, nil)
	}
	return nil
}

// clientCertHeader decodes the one Client-Cert field of RFC 9440 §2.2: a
// structured-field byte sequence, ":" base64 ":" (RFC 8941 §3.3.5), of the
// certificate's DER. Anything else, or more than one field, is nil.
func clientCertHeader(fields []string) []byte {
	if len(fields) != 1 || len(fields[0]) > maxClientCert {
		return nil
	}
	f := strings.Trim(fields[0], " \t")
	if len(f) < 3 || f[0] != ':' || f[len(f)-1] != ':' {
		return nil
	}
	der, err := base64.StdEncoding.Strict().DecodeString(f[1 : len(f)-1])
	if err != nil || len(der) == 0 {
		return nil
	}
	return der
}
