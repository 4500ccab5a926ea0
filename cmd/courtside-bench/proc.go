package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"courtside/storage"
)

// env returns the environment of every courtside process of the run: the run's key.
func (b *Bench) env() []string {
	return append(os.Environ(), "COURTSIDE_KEY="+b.Key)
}

// cli runs a courtside command and returns its standard output.
func (b *Bench) cli(ctx context.Context, stdin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, b.Courtside, args...)
	cmd.Env = b.env()
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("courtside %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// initDB creates the database at path with `courtside init`, as an operator does first, unless
// the file exists already. A PostgreSQL URL names an empty database that init fills.
func (b *Bench) initDB(ctx context.Context, path string) error {
	if !storage.IsPostgresURL(path) {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
	}
	_, err := b.cli(ctx, "", "init", "--db", path)
	return err
}

// Server is a running `courtside serve`.
type Server struct {
	URL  string
	cmd  *exec.Cmd
	logs *bytes.Buffer
	done chan struct{}
}

// startServer runs `courtside serve` on 127.0.0.1:0 and waits for the address it prints.
func (b *Bench) startServer(ctx context.Context, db string, extra ...string) (*Server, error) {
	return b.startServerEnv(ctx, db, nil, extra...)
}

// startServerEnv is startServer with env added to the server's environment.
func (b *Bench) startServerEnv(ctx context.Context, db string, env []string, extra ...string) (*Server, error) {
	cmd := exec.Command(b.Courtside, append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db}, extra...)...)
	cmd.Env = append(b.env(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s := &Server{cmd: cmd, logs: &bytes.Buffer{}, done: make(chan struct{})}
	cmd.Stderr = &limitedBuffer{buf: s.logs, max: 1 << 20}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				select {
				case addr <- line:
				default:
				}
			}
		}
	}()
	go func() { cmd.Wait(); close(s.done) }()
	select {
	case s.URL = <-addr:
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("courtside serve exited: %s", lastLines(s.logs.String(), 5))
	case <-time.After(5 * time.Minute): // a start-up backfill of a large database takes a while
		s.Stop()
		return nil, fmt.Errorf("courtside serve did not start in 5 min")
	case <-ctx.Done():
		s.Stop()
		return nil, ctx.Err()
	}
}

// Pid returns the server's process ID.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Stop ends the server with SIGTERM, then SIGKILL after 10 s.
func (s *Server) Stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// limitedBuffer keeps at most max bytes of a process's log.
type limitedBuffer struct {
	buf *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " / ")
}

// procMemory reads VmRSS and VmHWM (peak resident) of a process from /proc, in bytes.
func procMemory(pid int) (rss, hwm int64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	return parseProcStatus(string(data))
}

// parseProcStatus reads VmRSS and VmHWM out of the text of /proc/PID/status.
func parseProcStatus(status string) (rss, hwm int64, err error) {
	var gotRSS, gotHWM bool
	for _, line := range strings.Split(status, "\n") {
		var kb int64
		if _, err := fmt.Sscanf(line, "VmRSS: %d kB", &kb); err == nil {
			rss, gotRSS = kb<<10, true
		} else if _, err := fmt.Sscanf(line, "VmHWM: %d kB", &kb); err == nil {
			hwm, gotHWM = kb<<10, true
		}
	}
	if !gotRSS || !gotHWM {
		return 0, 0, fmt.Errorf("no VmRSS or VmHWM in /proc status")
	}
	return rss, hwm, nil
}

// fmtMB renders bytes as MB (10^6), the unit of the targets.
func fmtMB(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
