package app_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/jwksauth/jwksauth/examples/internal/app"
	"github.com/jwksauth/jwksauth/examples/internal/apptest"
)

// browserBudget bounds the whole browser test, all frameworks included.
const browserBudget = 90 * time.Second

var docsLine = regexp.MustCompile(`(?m)^Interactive docs: (http://\S+/)$`)

// chromium returns the Chromium to drive: $CHROMIUM, else the Debian
// package's /usr/bin/chromium or a chromium on PATH. Without one the test
// is skipped, except on CI (JWKSAUTH_REQUIRE_E2E or CI set), where it
// fails: .ci/run installs it.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	apptest.Unavailable(t, "examples/internal/app browser test",
		"no Chromium found (set CHROMIUM, or install the Debian package: apt-get install chromium)")
	return ""
}

// TestBrowserLogin is what a newcomer does with the interactive docs: load
// / of an app in development mode in headless Chromium, click Authorize,
// pick two scopes, log in at the development issuer (authorization code +
// PKCE, in Swagger UI's popup), Approve, come back to Swagger UI, then Try
// it out → Execute on GET /notes: the page must show the 200 and its body.
// It runs once per framework, in one browser.
func TestBrowserLogin(t *testing.T) {
	path := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), browserBudget)
	defer cancel()
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// Without these Chromium tries to reach Google and hangs on a closed network.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-popup-blocking", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1024),
	)
	defer cancelAlloc()
	browser, closeBrowser := chromedp.NewContext(alloc)
	defer closeBrowser()
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}

	shots := os.Getenv("BROWSER_SCREENSHOTS") // keep the screenshots there
	if shots == "" {
		shots = t.TempDir()
	}
	for _, fw := range frameworks {
		t.Run(fw.Name, func(t *testing.T) {
			start := time.Now()
			docs := startDevApp(t, fw)
			tab, closeTab := chromedp.NewContext(browser)
			defer closeTab()
			status, body := loginAndList(t, tab, docs)
			png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
			if err != nil {
				t.Errorf("screenshot: %v", err)
			} else {
				file := filepath.Join(shots, "browser-"+fw.Name+".png")
				if err := os.WriteFile(file, png, 0o644); err != nil {
					t.Error(err)
				}
				t.Logf("screenshot: %s", file)
			}
			if status != "200" || !strings.Contains(body, `"listed the notes"`) {
				t.Errorf("GET /notes in Swagger UI shows status %q, body %q; want 200 listed the notes", status, body)
			}
			t.Logf("%s: login and GET /notes in %v", fw.Name, time.Since(start).Round(time.Millisecond))
		})
	}
}

// startDevApp runs fw in development mode on a free port and returns the
// docs URL it prints first.
func startDevApp(t *testing.T, fw app.Framework) string {
	t.Helper()
	var stdout, stderr apptest.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	go func() { code <- app.Command(ctx, fw, env(map[string]string{"ADDR": "127.0.0.1:0"}), &stdout, &stderr) }()
	t.Cleanup(func() {
		cancel()
		exited(t, code, &stderr)
	})
	return apptest.WaitFor(t, &stdout, 10*time.Second, func(s string) (string, bool) {
		m := docsLine.FindStringSubmatch(s)
		// The tokens print once the keys are loaded: the app is ready.
		if m == nil || !strings.Contains(s, "Then try:") {
			return "", false
		}
		return m[1], true
	})
}

const (
	authorizeButton = `.scheme-container button.authorize`
	listNotes       = `#operations-notes-listNotes`
)

// scopeBox is the label of a scope's checkbox in Swagger UI's Authorize dialog.
func scopeBox(scope string) string {
	return `label[for="` + scope + `-authorizationCode-checkbox-` + app.SchemeOAuth2 + `"]`
}

// loginAndList drives the docs page and returns the status and body Swagger
// UI shows for GET /notes.
func loginAndList(t *testing.T, tab context.Context, docs string) (status, body string) {
	t.Helper()
	do := func(name string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(tab, steps...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	text := func(ctx context.Context, name string, a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(ctx, a)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return v
	}
	do("open the docs",
		chromedp.Navigate(docs),
		chromedp.WaitVisible(chromedp.CSS(authorizeButton)),
		chromedp.Click(chromedp.CSS(authorizeButton)),
		chromedp.WaitVisible(chromedp.CSS(scopeBox(app.ScopeRead))),
	)
	if client := text(tab, "client id", chromedp.Value(chromedp.CSS(`.auth-container input#client_id_authorizationCode`))); client != app.DefaultDevClientID {
		t.Errorf("the Authorize dialog's client id is %q, want %q", client, app.DefaultDevClientID)
	}
	do("pick the scopes",
		chromedp.Click(chromedp.CSS(scopeBox(app.ScopeRead))),
		chromedp.Click(chromedp.CSS(scopeBox(app.ScopeCreate))),
	)

	// Authorize opens the development login in a popup.
	popup := chromedp.WaitNewTarget(tab, func(i *target.Info) bool { return strings.Contains(i.URL, "/authorize?") })
	do("authorize", chromedp.Click(chromedp.CSS(`.auth-btn-wrapper button.authorize`)))
	var id target.ID
	select {
	case id = <-popup:
	case <-tab.Done():
		t.Fatal("no login popup opened")
	}
	login, closeLogin := chromedp.NewContext(tab, chromedp.WithTargetID(id))
	defer closeLogin()
	if err := chromedp.Do(login, chromedp.WaitVisible(chromedp.CSS(`#approve`))); err != nil {
		t.Fatalf("development login: %v", err)
	}
	offered, err := chromedp.Run(login, chromedp.Evaluate[[]string](`[...document.querySelectorAll('input[name=scope_pick]')].map(e => e.value)`))
	if err != nil {
		t.Fatalf("development login: %v", err)
	}
	if strings.Join(offered, " ") != app.ScopeRead+" "+app.ScopeCreate {
		t.Errorf("the development login offers %v, want the two scopes picked", offered)
	}
	if err := chromedp.Do(login, chromedp.Click(chromedp.CSS(`#approve`))); err != nil {
		t.Fatalf("approve: %v", err)
	}

	// The popup returns the code to Swagger UI, which exchanges it (with
	// the PKCE verifier) for a token: the dialog then offers to log out.
	do("back in Swagger UI",
		chromedp.WaitVisible(chromedp.CSS(`.auth-btn-wrapper button[aria-label="Remove authorization"]`)),
		chromedp.Click(chromedp.CSS(`.auth-btn-wrapper button.btn-done`)),
		chromedp.Click(chromedp.CSS(listNotes+` .opblock-summary-control`)),
		chromedp.Click(chromedp.CSS(listNotes+` button.try-out__btn`)),
		chromedp.Click(chromedp.CSS(listNotes+` button.execute`)),
		chromedp.WaitVisible(chromedp.CSS(listNotes+` .live-responses-table tbody .response-col_status`)),
		chromedp.ScrollIntoView(chromedp.CSS(listNotes+` .live-responses-table`)),
	)
	status = text(tab, "status", chromedp.Text(chromedp.CSS(listNotes+` .live-responses-table tbody .response-col_status`)))
	body = text(tab, "body", chromedp.Text(chromedp.CSS(listNotes+` .live-responses-table tbody .response-col_description`)))
	return strings.TrimSpace(status), body
}
