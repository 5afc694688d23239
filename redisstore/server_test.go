package redisstore_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// requireEnv makes a suite that needs a tool fail instead of skip when the
// tool is missing; .ci/run sets it. skipLogEnv names the file to which a
// skipped suite appends a line, which `make test` prints at its end
// (scripts/skips.sh).
const (
	requireEnv = "JWKSAUTH_REQUIRE_E2E"
	skipLogEnv = "JWKSAUTH_SKIP_LOG"
)

// unavailable ends t for want of redis-server: it fails under CI
// (requireEnv or CI set), and otherwise skips, recording the skip.
func unavailable(t testing.TB, why string) {
	t.Helper()
	const suite = "redisstore tests against a real Redis"
	if v := os.Getenv(requireEnv); v != "" && v != "0" {
		t.Fatalf("%s: %s (%s=%s: this suite must run)", suite, why, requireEnv, v)
	}
	if v := os.Getenv("CI"); v != "" {
		t.Fatalf("%s: %s (CI=%s: this suite must run)", suite, why, v)
	}
	if path := os.Getenv(skipLogEnv); path != "" {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err == nil {
			// One line for the suite, whichever test found the tool
			// missing: the skips are listed uniquely.
			_, err = fmt.Fprintf(f, "%s (redisstore): %s\n", suite, why)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			t.Fatalf("%s: recording the skip in %s=%s: %v", suite, skipLogEnv, path, err)
		}
	}
	t.Skipf("%s skipped: %s", suite, why)
}

// server is a redis-server process of one test, on a loopback port.
type server struct {
	t    testing.TB
	bin  string
	dir  string
	Addr string
	cmd  *exec.Cmd

	exited chan error
}

// startServer starts redis-server on a free loopback port, without
// persistence, in a temporary directory, waits until it answers PING and
// kills it when the test ends. Without redis-server it calls unavailable.
func startServer(t testing.TB) *server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		unavailable(t, "redis-server is not installed (Debian: apt-get install redis-server)")
	}
	s := &server{t: t, bin: bin, dir: t.TempDir()}
	for attempt := 0; ; attempt++ {
		s.Addr = freeAddr(t)
		err := s.start()
		if err == nil {
			break
		}
		if attempt == 4 {
			t.Fatalf("starting redis-server: %v", err)
		}
	}
	t.Cleanup(s.Kill)
	return s
}

// freeAddr returns a loopback address no one listened on a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// start runs redis-server on s.Addr and waits for it to answer PING.
func (s *server) start() error {
	_, port, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", s.dir, "--logfile", "", "--loglevel", "warning", "--protected-mode", "yes")
	cmd.Dir = s.dir
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		err := rdb.Ping(ctx).Err()
		cancel()
		if err == nil {
			s.cmd = cmd
			s.exited = exited
			return nil
		}
		select {
		case werr := <-exited:
			return fmt.Errorf("redis-server on %s exited: %v (last PING: %v)", s.Addr, werr, err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("redis-server on %s did not answer PING within 10s: %v", s.Addr, err)
		}
	}
}

// Kill kills the server and waits for it to exit; a killed server is not
// killed again.
func (s *server) Kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// Restart starts a new, empty server on the same port.
func (s *server) Restart() {
	s.t.Helper()
	s.Kill()
	var err error
	for range 50 { // the port may still be held for a moment
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("restarting redis-server on %s: %v", s.Addr, err)
}

// Client returns a client of the server, closed when the test ends, with
// the context deadlines the Store requires.
func (s *server) Client(t testing.TB) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}
