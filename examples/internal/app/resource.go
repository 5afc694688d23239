package app

import (
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/jwksauth/jwksauth/core"
)

// ResourceName is the resource_name of the example apps' Protected
// Resource Metadata document (RFC 9728 §2).
const ResourceName = "jwksauth example notes API"

// resourceOption makes id the API's resource identifier: core publishes
// the metadata document, names it in every challenge, and accepts tokens
// whose aud is id (RFC 8707).
func resourceOption(id string) core.Option {
	return core.WithResource(id, core.ResourceMetadata{Name: ResourceName})
}

// checkResourceURL accepts what core.WithResource accepts: an absolute
// https URL, or http on a loopback host, without query, fragment or
// userinfo (RFC 9728 §1.2, RFC 8707 §2). "" (unset) passes.
func checkResourceURL(raw string) error {
	if raw == "" {
		return nil
	}
	if err := checkURL(raw); err != nil {
		return err
	}
	u, _ := url.Parse(raw) // checkURL parsed it
	switch {
	case strings.ContainsAny(raw, "?#"):
		return fmt.Errorf("%q has a query or fragment; a resource identifier has neither (RFC 8707 §2)", raw)
	case u.User != nil:
		return fmt.Errorf("%q has userinfo; a resource identifier has none", raw)
	}
	return nil
}

// ResourceMetadata reports whether s.Verifier publishes a metadata document, which
// the frameworks then mount (RFC 9728 §3).
func (s Service) ResourceMetadata() bool {
	return s.Verifier.ResourceMetadataURL() != ""
}

// printResourceMetadata tells, on stdout in development mode, where the
// metadata document is and how a client finds it.
func printResourceMetadata(w io.Writer, base, docURL string) {
	if docURL == "" {
		return
	}
	fmt.Fprintf(w, "Protected Resource Metadata (RFC 9728): curl %s\n", docURL)
	fmt.Fprintf(w, "  every 401 and 403 names it (curl -i %s/notes: resource_metadata=...), so OAuth and MCP clients find the issuer and scopes there.\n\n", base)
}
