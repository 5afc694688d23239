package authtest

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// DevLogin configures the issuer's development login: an OAuth2
// authorization-code flow with PKCE (S256 only) whose login page lets you
// pick a subject and scopes and approves at once. It exists so that
// interactive API docs (Swagger UI's Authorize button) work locally without
// an account anywhere. It is not an identity provider: it authenticates
// nobody.
type DevLogin struct {
	// ClientID is the only client id accepted. Required.
	ClientID string
	// Audience is the aud of issued tokens. Default DefaultAudience.
	Audience string
	// Scopes are offered on the login page. A request may ask for a subset.
	Scopes []string
	// TokenTTL is the lifetime of issued access tokens. Default one hour.
	TokenTTL time.Duration
}

type devCode struct {
	clientID, redirect, challenge, subject string
	scopes                                 []string
	expires                                time.Time
}

type devLogin struct {
	cfg   DevLogin
	iss   *Issuer
	mu    sync.Mutex
	codes map[string]devCode
}

// EnableDevLogin mounts GET/POST /authorize and POST /token on the issuer.
// Redirect URIs must be http(s) on a loopback host, so the login cannot be
// used as an open redirector.
func (i *Issuer) EnableDevLogin(cfg DevLogin) {
	if cfg.Audience == "" {
		cfg.Audience = DefaultAudience
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = time.Hour
	}
	d := &devLogin{cfg: cfg, iss: i, codes: map[string]devCode{}}
	i.Handle("GET /authorize", http.HandlerFunc(d.page))
	i.Handle("POST /authorize", http.HandlerFunc(d.approve))
	i.Handle("POST /token", http.HandlerFunc(d.token))
	i.Handle("OPTIONS /token", http.HandlerFunc(d.token))
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>jwksauth development login</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}
.warn{background:#fff3cd;border:1px solid #e0c36c;padding:.6rem .8rem;border-radius:6px}
label{display:block;margin:.3rem 0}button{margin-top:1rem;padding:.5rem 1.2rem;font-size:1rem}</style></head>
<body><h1>Development login</h1>
<p class="warn">This is jwksauth's built-in development issuer. It signs whatever you pick below. Never use it in production.</p>
<form method="post" action="authorize">
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
<label>Subject <input name="subject" value="dev-user"></label>
<fieldset><legend>Scopes for client <code>{{.ClientID}}</code></legend>
{{range .Scopes}}<label><input type="checkbox" name="scope_pick" value="{{.}}" checked> {{.}}</label>{{end}}
</fieldset>
<button type="submit" id="approve">Approve</button>
</form></body></html>`))

// params are the authorization request parameters carried through the login page.
var params = []string{"response_type", "client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method", "scope"}

func (d *devLogin) check(q url.Values) (redirect *url.URL, problem string) {
	u, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !isLoopbackHost(u.Hostname()) {
		return nil, "redirect_uri must be an http(s) URL on a loopback host"
	}
	switch {
	case q.Get("client_id") != d.cfg.ClientID || d.cfg.ClientID == "":
		return nil, "unknown client_id"
	case q.Get("response_type") != "code":
		return u, "unsupported_response_type"
	case q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) < 43:
		return u, "invalid_request"
	}
	return u, ""
}

func (d *devLogin) requested(q url.Values) []string {
	var out []string
	for s := range strings.FieldsSeq(q.Get("scope")) {
		if slices.Contains(d.cfg.Scopes, s) {
			out = append(out, s)
		}
	}
	if q.Get("scope") == "" {
		out = slices.Clone(d.cfg.Scopes)
	}
	return out
}

func (d *devLogin) page(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	u, problem := d.check(q)
	if problem != "" {
		d.fail(w, r, u, q.Get("state"), problem)
		return
	}
	hidden := map[string]string{}
	for _, p := range params {
		hidden[p] = q.Get(p)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = loginPage.Execute(w, map[string]any{"Hidden": hidden, "ClientID": d.cfg.ClientID, "Scopes": d.requested(q)})
}

func (d *devLogin) approve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	q := r.PostForm
	u, problem := d.check(q)
	if problem != "" {
		d.fail(w, r, u, q.Get("state"), problem)
		return
	}
	offered := d.requested(q)
	var picked []string
	for _, s := range q["scope_pick"] {
		if slices.Contains(offered, s) && !slices.Contains(picked, s) {
			picked = append(picked, s)
		}
	}
	subject := strings.TrimSpace(q.Get("subject"))
	if subject == "" {
		subject = "dev-user"
	}
	code := randomToken()
	d.mu.Lock()
	now := time.Now()
	for k, c := range d.codes {
		if now.After(c.expires) {
			delete(d.codes, k)
		}
	}
	d.codes[code] = devCode{clientID: q.Get("client_id"), redirect: q.Get("redirect_uri"), challenge: q.Get("code_challenge"),
		subject: subject, scopes: picked, expires: now.Add(2 * time.Minute)}
	d.mu.Unlock()
	v := u.Query()
	v.Set("code", code)
	if s := q.Get("state"); s != "" {
		v.Set("state", s)
	}
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (d *devLogin) fail(w http.ResponseWriter, r *http.Request, u *url.URL, state, problem string) {
	if u == nil {
		http.Error(w, problem, http.StatusBadRequest)
		return
	}
	v := u.Query()
	v.Set("error", problem)
	if state != "" {
		v.Set("state", state)
	}
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (d *devLogin) token(w http.ResponseWriter, r *http.Request) {
	// Browser-based docs call the token endpoint from another origin.
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Access-Control-Allow-Headers", "Content-Type, Authorization, X-Requested-With")
	w.Header().Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	tokenError := func(code string) {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
	}
	if err := r.ParseForm(); err != nil {
		tokenError("invalid_request")
		return
	}
	q := r.PostForm
	if q.Get("grant_type") != "authorization_code" {
		tokenError("unsupported_grant_type")
		return
	}
	d.mu.Lock()
	c, ok := d.codes[q.Get("code")]
	delete(d.codes, q.Get("code")) // a code is good once
	d.mu.Unlock()
	clientID := q.Get("client_id")
	if id, _, basic := r.BasicAuth(); basic {
		clientID = id
	}
	sum := sha256.Sum256([]byte(q.Get("code_verifier")))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	if !ok || time.Now().After(c.expires) || c.clientID != clientID || c.redirect != q.Get("redirect_uri") ||
		subtle.ConstantTimeCompare([]byte(challenge), []byte(c.challenge)) != 1 {
		tokenError("invalid_grant")
		return
	}
	now := time.Now()
	tok, err := d.iss.Mint(Claims{
		"sub": c.subject, "aud": d.cfg.Audience, "client_id": c.clientID, "scope": strings.Join(c.scopes, " "),
		"iat": now.Unix(), "exp": now.Add(d.cfg.TokenTTL).Unix(),
	}, Header("typ", "at+jwt"))
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": tok, "token_type": "Bearer", "expires_in": int(d.cfg.TokenTTL.Seconds()),
		"scope": strings.Join(c.scopes, " "),
	})
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	return h == "127.0.0.1" || h == "::1" || strings.HasPrefix(h, "127.")
}
