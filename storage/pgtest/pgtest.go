// Package pgtest runs a throwaway PostgreSQL server for tests: Debian's postgresql binaries,
// initdb into a temporary folder, a free port on 127.0.0.1 and a socket in that folder, run as
// the postgres user when the tests run as root. One server serves a test binary; each test gets
// a database of its own.
//
// A package whose tests use it calls Main from its TestMain, so that the server stops when the
// tests end:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// `make test` installs Debian's postgresql package when it is missing.
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// Cluster is a running throwaway PostgreSQL server.
type Cluster struct {
	durable bool   // PostgreSQL's own durability settings rather than the tests' (StartDurable)
	dir     string // data directory and socket directory
	bin     string // directory of initdb and postgres
	port    int
	cmd     *exec.Cmd
	exit    chan error // the server's exit, once
	logf    *os.File
	n       atomic.Int64 // databases created
}

var (
	shared     *Cluster
	sharedErr  error
	sharedOnce sync.Once
	sharedMu   sync.Mutex
)

// Main runs the tests of m and then stops the shared server if a test started it.
func Main(m *testing.M) {
	code := m.Run()
	StopShared()
	os.Exit(code)
}

// StopShared stops the shared server if a test started it; a TestMain that does more than
// Main calls it after m.Run.
func StopShared() {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared != nil {
		if err := shared.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
		shared = nil
	}
}

// URL returns the URL of a new, empty database on the shared server, which it starts on first
// use; the database is dropped when the test ends. Without PostgreSQL's binaries the test fails
// with a message saying how to get them.
func URL(tb testing.TB) string {
	tb.Helper()
	return FromTemplate(tb, "", nil)
}

var (
	templatesMu sync.Mutex
	templates   = map[string]error{} // name -> how preparing it went
)

// FromTemplate returns the URL of a new database on the shared server that starts as a copy
// of the template database name, which prepare fills once per test binary (running the
// migrations, say): copying a template is much faster than filling each database anew. With
// an empty name the database starts empty. It is dropped when the test ends.
func FromTemplate(tb testing.TB, name string, prepare func(url string) error) string {
	tb.Helper()
	sharedOnce.Do(func() {
		sharedMu.Lock()
		defer sharedMu.Unlock()
		shared, sharedErr = Start()
	})
	if sharedErr != nil {
		tb.Fatalf("pgtest: %v", sharedErr)
	}
	if name != "" {
		templatesMu.Lock()
		err, done := templates[name]
		if !done {
			err = shared.createTemplate(context.Background(), name, prepare)
			templates[name] = err
		}
		templatesMu.Unlock()
		if err != nil {
			tb.Fatalf("pgtest: template %s: %v", name, err)
		}
	}
	url, drop, err := shared.CreateDatabase(context.Background(), name)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(func() {
		if err := drop(); err != nil {
			tb.Errorf("pgtest: %v", err)
		}
	})
	return url
}

// BinDir returns the directory of PostgreSQL's server binaries: $COURTSIDE_PG_BIN, else the
// newest /usr/lib/postgresql/*/bin (Debian's layout).
func BinDir() (string, error) {
	if d := os.Getenv("COURTSIDE_PG_BIN"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	var found []string
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			found = append(found, d)
		}
	}
	if len(found) == 0 {
		return "", errors.New("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin: `make test` installs Debian's postgresql package (or apt-get install postgresql; COURTSIDE_PG_BIN names another directory)")
	}
	sort.Slice(found, func(i, j int) bool { return version(found[i]) > version(found[j]) })
	return found[0], nil
}

// version returns the major version in a /usr/lib/postgresql/N/bin path.
func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// Start initialises a cluster in a new temporary folder and starts its server, with durability
// off (the folder is thrown away).
func Start() (*Cluster, error) { return startCluster(false) }

// StartDurable is Start with PostgreSQL's default durability (fsync, synchronous_commit and
// full_page_writes on), as a production server runs: for measurements, where a commit must cost
// what it costs in production.
func StartDurable() (*Cluster, error) { return startCluster(true) }

// startCluster initialises a cluster in a new temporary folder and starts its server.
func startCluster(durable bool) (*Cluster, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "courtside-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, bin: bin, durable: durable}
	if err := c.start(); err != nil {
		c.kill()
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

// start runs initdb and the server.
func (c *Cluster) start() error {
	cred, err := credential()
	if err != nil {
		return err
	}
	if cred != nil {
		if err := os.Chown(c.dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return err
		}
	}
	data := filepath.Join(c.dir, "data")
	initdb := exec.Command(filepath.Join(c.bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust",
		"--encoding=UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = procAttr(cred)
	if out, err := initdb.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %v: %s", err, out)
	}
	if c.port, err = freePort(); err != nil {
		return err
	}
	if c.logf, err = os.Create(filepath.Join(c.dir, "server.log")); err != nil {
		return err
	}
	// A test server: durability off (the folder is thrown away) unless asked for, enough
	// connections for the tests' pools.
	args := []string{"-D", data, "-p", strconv.Itoa(c.port), "-k", c.dir, "-h", "127.0.0.1", "-c", "max_connections=300"}
	if !c.durable {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	c.cmd = exec.Command(filepath.Join(c.bin, "postgres"), args...)
	c.cmd.Stdout, c.cmd.Stderr = c.logf, c.logf
	c.cmd.SysProcAttr = procAttr(cred)
	if err := c.cmd.Start(); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	c.exit = make(chan error, 1)
	go func() { c.exit <- c.cmd.Wait() }()
	return c.await()
}

// await waits until the server accepts connections, or fails with its log when it exits.
func (c *Cluster) await() error {
	db, err := sql.Open("pgx", c.url("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	for i := 0; ; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case exitErr := <-c.exit:
			c.exit <- exitErr
			log, _ := os.ReadFile(c.logf.Name())
			return fmt.Errorf("postgres exited (%v): %s", exitErr, log)
		case <-time.After(50 * time.Millisecond):
		}
		// Starting takes well under a second on an idle machine; a shared one may take
		// longer, so only a server that never answers is a failure.
		if i > 1200 {
			return fmt.Errorf("postgres did not answer: %v", err)
		}
	}
}

// url returns the URL of database name.
func (c *Cluster) url(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, name)
}

// createTemplate creates the database name and has prepare fill it.
func (c *Cluster) createTemplate(ctx context.Context, name string, prepare func(url string) error) error {
	admin, err := sql.Open("pgx", c.url("postgres"))
	if err != nil {
		return err
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	if prepare != nil {
		return prepare(c.url(name))
	}
	return nil
}

// CreateDatabase creates a new database, empty or a copy of template (when not ""), and returns
// its URL and a function that drops it.
func (c *Cluster) CreateDatabase(ctx context.Context, template string) (string, func() error, error) {
	name := fmt.Sprintf("courtside_%d_%d", os.Getpid(), c.n.Add(1))
	admin, err := sql.Open("pgx", c.url("postgres"))
	if err != nil {
		return "", nil, err
	}
	defer admin.Close()
	create := `CREATE DATABASE ` + name
	if template != "" {
		create += ` TEMPLATE ` + template
	}
	if _, err := admin.ExecContext(ctx, create); err != nil {
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	drop := func() error {
		admin, err := sql.Open("pgx", c.url("postgres"))
		if err != nil {
			return err
		}
		defer admin.Close()
		// WITH (FORCE) ends connections a test left open.
		if _, err := admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`); err != nil {
			return fmt.Errorf("drop database: %w", err)
		}
		return nil
	}
	return c.url(name), drop, nil
}

// Stop shuts the server down (fast shutdown) and removes its folder.
func (c *Cluster) Stop() error {
	var err error
	if c.cmd != nil && c.cmd.Process != nil {
		c.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-c.exit:
		case <-time.After(30 * time.Second):
			c.kill()
			err = errors.New("postgres did not stop; killed")
		}
	}
	if c.logf != nil {
		c.logf.Close()
	}
	return errors.Join(err, os.RemoveAll(c.dir))
}

// kill ends the server at once.
func (c *Cluster) kill() {
	if c.cmd != nil && c.cmd.Process != nil {
		c.cmd.Process.Kill()
	}
}

// credential returns the postgres user's credential when running as root (initdb and the
// server refuse to run as root), else nil.
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs the postgres user (Debian's postgresql package creates it): %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// freePort returns a TCP port on 127.0.0.1 that nothing listens on.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	_, port, _ := strings.Cut(l.Addr().String(), ":")
	return strconv.Atoi(port)
}
