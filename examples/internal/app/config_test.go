package app_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/jwksauth/jwksauth/examples/internal/app"
	"github.com/jwksauth/jwksauth/examples/internal/apptest"
)

func TestLoadConfig(t *testing.T) {
	const iss = "https://issuer.example.com/realms/notes"
	tests := []loadConfigCase{
		{name: "defaults: development mode", env: nil,
			want: app.Config{Addr: "127.0.0.1:8080", Audiences: []string{"account"}}},
		{name: "issuer only", env: map[string]string{"ISSUER": iss},
			want: app.Config{Addr: "127.0.0.1:8080", Issuer: iss, Audiences: []string{"account"}}},
		{name: "everything", env: map[string]string{
			"ADDR": ":0", "ISSUER": iss, "JWKS_URL": iss + "/certs",
			"PERMITTED_JWT_AUDIENCES": " api , https://notes.example.com,, ", "PERMITTED_CLIENT_IDS": "web,cli",
			"AUTHORIZATION_URL": iss + "/auth", "TOKEN_URL": iss + "/token", "CLIENT_ID": "docs",
		}, want: app.Config{
			Addr: ":0", Issuer: iss, JWKSURL: iss + "/certs",
			Audiences: []string{"api", "https://notes.example.com"}, ClientIDs: []string{"web", "cli"},
			AuthorizationURL: iss + "/auth", TokenURL: iss + "/token", ClientID: "docs",
		}},
		{name: "empty counts as unset", env: map[string]string{"ADDR": " ", "PERMITTED_JWT_AUDIENCES": ""},
			want: app.Config{Addr: "127.0.0.1:8080", Audiences: []string{"account"}}},
		{name: "loopback http issuer", env: map[string]string{"ISSUER": "http://127.0.0.1:9000"},
			want: app.Config{Addr: "127.0.0.1:8080", Issuer: "http://127.0.0.1:9000", Audiences: []string{"account"}}},
		{name: "JWKS_URL without ISSUER", env: map[string]string{"JWKS_URL": iss + "/certs"}, wantVar: "ISSUER"},
		{name: "issuer not a URL", env: map[string]string{"ISSUER": "issuer.example.com"}, wantVar: "ISSUER"},
		{name: "issuer over plain http", env: map[string]string{"ISSUER": "http://issuer.example.com"}, wantVar: "ISSUER"},
		{name: "issuer with a query", env: map[string]string{"ISSUER": "https://issuer.example.com/?tenant=1"}, wantVar: "ISSUER"},
		{name: "JWKS_URL not http", env: map[string]string{"ISSUER": iss, "JWKS_URL": "ftp://issuer.example.com/keys"}, wantVar: "JWKS_URL"},
		{name: "ADDR without port", env: map[string]string{"ADDR": "localhost"}, wantVar: "ADDR"},
		{name: "ADDR port out of range", env: map[string]string{"ADDR": "127.0.0.1:70000"}, wantVar: "ADDR"},
		{name: "ADDR port not a number", env: map[string]string{"ADDR": "127.0.0.1:http"}, wantVar: "ADDR"},
		{name: "audiences all empty", env: map[string]string{"ISSUER": iss, "PERMITTED_JWT_AUDIENCES": " , ,"}, wantVar: "PERMITTED_JWT_AUDIENCES"},
		{name: "client ids all empty", env: map[string]string{"ISSUER": iss, "PERMITTED_CLIENT_IDS": ","}, wantVar: "PERMITTED_CLIENT_IDS"},
		{name: "authorization URL relative", env: map[string]string{"AUTHORIZATION_URL": "/authorize"}, wantVar: "AUTHORIZATION_URL"},
		{name: "token URL over plain http", env: map[string]string{"TOKEN_URL": "http://login.example.com/token"}, wantVar: "TOKEN_URL"},
		{name: "client id with a space", env: map[string]string{"CLIENT_ID": "notes docs"}, wantVar: "CLIENT_ID"},
		{name: "client id not ASCII", env: map[string]string{"CLIENT_ID": "notés"}, wantVar: "CLIENT_ID"},
		{name: "DPoP allowed", env: map[string]string{"DPOP": "allowed"},
			want: app.Config{Addr: "127.0.0.1:8080", Audiences: []string{"account"}}},
		{name: "DPoP required", env: map[string]string{"DPOP": " required "},
			want: app.Config{Addr: "127.0.0.1:8080", Audiences: []string{"account"}, DPoPRequired: true}},
		{name: "DPoP in another case", env: map[string]string{"DPOP": "Required"}, wantVar: "DPOP"},
		{name: "DPoP unknown value", env: map[string]string{"DPOP": "true"}, wantVar: "DPOP"},
		{name: "DPoP off is not a mode", env: map[string]string{"DPOP": "disabled"}, wantVar: "DPOP"},
	}
	runLoadConfig(t, tests)
}

// loadConfigCase is one environment for LoadConfig and what it must give:
// a configuration, or a *ConfigError naming wantVar.
type loadConfigCase struct {
	name    string
	env     map[string]string
	want    app.Config
	wantVar string // the variable a *ConfigError names; "" for success
}

// runLoadConfig runs each case through LoadConfig: success gives exactly
// want; an error is a *ConfigError naming wantVar first, on one line.
func runLoadConfig(t *testing.T, tests []loadConfigCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := app.LoadConfig(env(tc.env))
			if tc.wantVar == "" {
				if err != nil {
					t.Fatalf("LoadConfig: %v", err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("LoadConfig = %+v\nwant %+v", got, tc.want)
				}
				return
			}
			var ce *app.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("LoadConfig error = %v, want a *ConfigError", err)
			}
			if ce.Var != tc.wantVar || !strings.HasPrefix(err.Error(), tc.wantVar+": ") || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q names %q, want one line naming %q", err, ce.Var, tc.wantVar)
			}
		})
	}
}

func TestConfigDevelopment(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want bool
	}{
		{name: "nothing set", want: true},
		{name: "only audiences", env: map[string]string{"PERMITTED_JWT_AUDIENCES": "api"}, want: true},
		{name: "issuer set", env: map[string]string{"ISSUER": "https://issuer.example.com"}, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := app.LoadConfig(env(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Development(); got != tc.want {
				t.Errorf("Development() = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestCommandConfigErrors: a bad setting exits with code 2 and one line on
// stderr naming the variable, before anything listens or prints.
func TestCommandConfigErrors(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantVar string
	}{
		{name: "JWKS_URL without ISSUER", env: map[string]string{"JWKS_URL": "https://issuer.example.com/keys"}, wantVar: "ISSUER"},
		{name: "issuer not a URL", env: map[string]string{"ISSUER": "::"}, wantVar: "ISSUER"},
		{name: "ADDR unparsable", env: map[string]string{"ADDR": "127.0.0.1"}, wantVar: "ADDR"},
		{name: "bad audiences", env: map[string]string{"PERMITTED_JWT_AUDIENCES": ","}, wantVar: "PERMITTED_JWT_AUDIENCES"},
		{name: "bad DPoP mode", env: map[string]string{"DPOP": "yes"}, wantVar: "DPOP"},
	}
	for _, fw := range frameworks {
		for _, tc := range tests {
			t.Run(fw.Name+"/"+tc.name, func(t *testing.T) {
				var stdout, stderr apptest.Buffer
				code := app.Command(context.Background(), fw, env(tc.env), &stdout, &stderr)
				if code != app.ExitConfig {
					t.Errorf("exit code %d, want %d", code, app.ExitConfig)
				}
				msg := stderr.String()
				if strings.Count(msg, "\n") != 1 || !strings.HasSuffix(msg, "\n") {
					t.Errorf("stderr is not one line: %q", msg)
				}
				if !strings.Contains(msg, " "+tc.wantVar+": ") {
					t.Errorf("stderr %q does not name %s", msg, tc.wantVar)
				}
				if stdout.String() != "" {
					t.Errorf("stdout = %q, want nothing", stdout.String())
				}
			})
		}
	}
}
