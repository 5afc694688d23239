package authtest_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jwksauth/jwksauth/core"
	"github.com/jwksauth/jwksauth/core/authtest"
)

func TestDevLoginAuthorizationCodeWithPKCE(t *testing.T) {
	iss := authtest.MustIssuer(t)
	iss.EnableDevLogin(authtest.DevLogin{ClientID: "docs", Scopes: []string{"a", "b", "c"}})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	verifier := strings.Repeat("v", 50)
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	redirect := "http://127.0.0.1:9/oauth2-redirect.html"
	q := url.Values{"response_type": {"code"}, "client_id": {"docs"}, "redirect_uri": {redirect}, "state": {"st"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "scope": {"a b"}}

	resp, err := client.Get(iss.URL + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), `value="a"`) || strings.Contains(string(page), `value="c"`) {
		t.Fatalf("login page %d: %s", resp.StatusCode, page)
	}

	code := func(picked ...string) string {
		form := url.Values{}
		for k, v := range q {
			form[k] = v
		}
		form["scope_pick"] = picked
		resp, err := client.PostForm(iss.URL+"/authorize", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, err := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || err != nil || loc.Query().Get("state") != "st" {
			t.Fatalf("approve: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		return loc.Query().Get("code")
	}
	exchange := func(code, verifier string) (int, map[string]any) {
		resp, err := client.PostForm(iss.URL+"/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {redirect}, "client_id": {"docs"}, "code_verifier": {verifier}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}

	c := code("b", "c") // c was not requested: dropped
	if status, out := exchange(c, strings.Repeat("w", 50)); status != 400 || out["error"] != "invalid_grant" {
		t.Fatalf("wrong verifier: %d %v", status, out)
	}
	if status, _ := exchange(c, verifier); status != 400 {
		t.Fatal("a code was accepted after a failed exchange")
	}
	c = code("b", "c")
	status, out := exchange(c, verifier)
	if status != 200 || out["scope"] != "b" {
		t.Fatalf("exchange: %d %v", status, out)
	}
	if status, _ := exchange(c, verifier); status != 400 {
		t.Fatal("a code was accepted twice")
	}

	v, err := core.New(context.Background(), core.WithIssuer(iss.URL), core.WithAudiences(authtest.DefaultAudience),
		core.WithClientIDs("docs"), core.WithRequireATJWT())
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = v.Ready(ctx)
	p, err := v.Verify(ctx, out["access_token"].(string))
	if err != nil || p.Subject != "dev-user" || !p.HasScope("b") || p.HasScope("c") {
		t.Fatalf("issued token: %+v, %v", p, err)
	}
}

func TestDevLoginRefusesForeignRedirects(t *testing.T) {
	iss := authtest.MustIssuer(t)
	iss.EnableDevLogin(authtest.DevLogin{ClientID: "docs", Scopes: []string{"a"}})
	for _, redirect := range []string{"https://evil.example/cb", "javascript:alert(1)", "//evil.example/cb"} {
		q := url.Values{"response_type": {"code"}, "client_id": {"docs"}, "redirect_uri": {redirect},
			"code_challenge": {strings.Repeat("x", 43)}, "code_challenge_method": {"S256"}}
		resp, err := http.Get(iss.URL + "/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("redirect %q: status %d, want 400", redirect, resp.StatusCode)
		}
	}
}
