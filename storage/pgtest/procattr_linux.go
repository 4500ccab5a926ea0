package pgtest

import "syscall"

// procAttr runs a PostgreSQL binary as cred (nil: as ourselves); the server is sent SIGQUIT
// (immediate shutdown) should the test process die without stopping it.
func procAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT, Setpgid: true}
}
