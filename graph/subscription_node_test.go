package graph_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// nodeDir holds the npm graphql-ws client's package.json, its lockfile and subscribe.mjs.
var nodeDir = filepath.Join("testdata", "node")

// nodeClient is a running `node subscribe.mjs`.
type nodeClient struct {
	t      testing.TB
	lines  chan string   // stdout, line by line; closed at EOF
	exited chan struct{} // closed once the process has been waited for
	err    error         // of Wait, once exited is closed

	mu     sync.Mutex
	stderr strings.Builder
}

func (n *nodeClient) Write(p []byte) (int, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stderr.Write(p)
}

func (n *nodeClient) stderrText() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stderr.String()
}

// nodePath returns the node binary. The test fails, never skips, when Node or the npm
// packages are missing: `make test` installs the packages.
func nodePath(t testing.TB) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed: it runs the npm graphql-ws client. Install Node.js 20 or later, then run `make test`.")
	}
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "graphql-ws", "package.json")); err != nil {
		t.Fatalf("graph/testdata/node/node_modules is missing: run `make test`, whose deps target runs `npm ci --prefix graph/testdata/node` (%v)", err)
	}
	return node
}

// startNode runs `node subscribe.mjs` with args.
func startNode(t testing.TB, node string, args ...string) *nodeClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	cmd := exec.CommandContext(ctx, node, append([]string{"subscribe.mjs"}, args...)...)
	cmd.Dir = nodeDir
	n := &nodeClient{t: t, lines: make(chan string, 16), exited: make(chan struct{})}
	cmd.Stderr = n
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() {
		defer close(n.exited)
		defer cancel()
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			n.lines <- sc.Text()
		}
		close(n.lines)
		n.err = cmd.Wait()
	}()
	t.Cleanup(func() {
		cancel()
		<-n.exited
	})
	return n
}

// change returns the next ScheduleChange the client printed.
func (n *nodeClient) change() changeView {
	n.t.Helper()
	select {
	case line, ok := <-n.lines:
		if !ok {
			<-n.exited
			n.t.Fatalf("node exited (%v) before printing a change; stderr:\n%s", n.err, n.stderrText())
		}
		var ch changeView
		if err := json.Unmarshal([]byte(line), &ch); err != nil {
			n.t.Fatalf("node printed %q: %v", line, err)
		}
		return ch
	case <-time.After(2 * time.Minute):
		n.t.Fatalf("node printed nothing; stderr:\n%s", n.stderrText())
	}
	panic("unreachable")
}

// wait waits for the client to exit and fails the test unless it exited 0 having printed
// nothing more.
func (n *nodeClient) wait() {
	n.t.Helper()
	for line := range n.lines {
		n.t.Errorf("node printed more: %s", line)
	}
	<-n.exited
	if n.err != nil {
		n.t.Fatalf("node: %v; stderr:\n%s", n.err, n.stderrText())
	}
}

// waitSubscribed waits until the hub has n subscriptions, failing early if the client
// exits.
func (le *liveEnv) waitSubscribed(nc *nodeClient, n int) {
	le.t.Helper()
	poll(le.t, "the node client to subscribe", func() bool {
		select {
		case <-nc.exited:
			le.t.Fatalf("node exited (%v) before subscribing; stderr:\n%s", nc.err, nc.stderrText())
		default:
		}
		return le.hub.Subscribers() == n
	})
}

// TestGraphQLWSNodeClient drives the server with the npm graphql-ws client, the one browser
// and Node applications use: the whole path from a mutation through the event log, the
// router's live-feed handler and the hub to the client, and an abrupt disconnect that must
// leave no goroutine behind.
func TestGraphQLWSNodeClient(t *testing.T) {
	node := nodePath(t)
	le := newLiveEnv(t)
	f := le.setUp()
	le.caughtUp()
	url := wsURL(le.srv.URL)

	t.Run("the client receives each change with its new sequence", func(t *testing.T) {
		le := &liveEnv{env: le.with(t), hub: le.hub}
		nc := startNode(t, node, "--url", url, "--token", le.tokens["pros"], "--hearing-id", f.hearingID, "--count", "2")
		le.waitSubscribed(nc, 1)
		for day := 10; day <= 11; day++ {
			seq := le.move("pros", f.hearingID, day)
			ch := nc.change()
			if ch.Hearing.ID != f.hearingID || ch.Hearing.Sequence != seq || ch.Hearing.StartsAt != mayStart(day) ||
				ch.Hearing.Status != "CONTINUED" || ch.Change.Sequence != seq || ch.Change.By != "pros" ||
				ch.Change.ToStartsAt == nil || *ch.Change.ToStartsAt != mayStart(day) {
				t.Fatalf("change %d: %+v", day, ch)
			}
		}
		nc.wait()
		le.subscribers(0)
	})

	t.Run("a client that vanishes mid-stream leaves no goroutine behind", func(t *testing.T) {
		le := &liveEnv{env: le.with(t), hub: le.hub}
		le.srv.Client().CloseIdleConnections()
		baseline := settledGoroutines(t) // in this subtest's goroutine, which counts too
		nc := startNode(t, node, "--url", url, "--token", le.tokens["pros"], "--count", "1", "--mode", "abrupt")
		le.waitSubscribed(nc, 1)
		seq := le.move("pros", f.hearingID, 12)
		// More changes while the client reads the first and drops the connection.
		for day := 13; day <= 16; day++ {
			le.move("pros", f.hearingID, day)
		}
		if ch := nc.change(); ch.Hearing.ID != f.hearingID || ch.Hearing.Sequence < seq {
			t.Fatalf("change: %+v", ch)
		}
		nc.wait()
		le.subscribers(0)
		le.srv.Client().CloseIdleConnections()
		waitGoroutines(t, baseline)
	})
}
