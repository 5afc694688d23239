package core

import "slices"

// PresetSettings is what a list of options derived, for the external tests
// of the provider presets: it lets them check the real providers' URLs
// while their tokens are verified against a loopback JWKS.
type PresetSettings struct {
	Issuer         string
	Aliases        []string
	JWKSURL        string
	Audiences      []string
	ClientIDs      []string
	ClientIDClaims []string
	ScopeClaims    []string
	RoleClaims     []string
	RequiredClaims []string
	RequireATJWT   bool
	PayloadTyp     string
}

// DeriveSettings applies opts to the default configuration and validates
// it, as New does, without starting anything.
func DeriveSettings(opts ...Option) (PresetSettings, error) {
	c := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(c)
		}
	}
	return PresetSettings{
		Issuer:         c.issuer,
		Aliases:        slices.Clone(c.issuerAliases),
		JWKSURL:        c.jwksURL,
		Audiences:      slices.Clone(c.audiences),
		ClientIDs:      slices.Clone(c.clientIDs),
		ClientIDClaims: slices.Clone(c.clientIDClaims),
		ScopeClaims:    slices.Clone(c.scopeClaims),
		RoleClaims:     slices.Clone(c.roleClaims),
		RequiredClaims: slices.Clone(c.requiredClaims),
		RequireATJWT:   c.requireATJWT,
		PayloadTyp:     c.payloadTyp,
	}, c.validate()
}
