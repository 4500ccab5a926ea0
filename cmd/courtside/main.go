// Command courtside runs the Courtside service and its administration commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"courtside"
)

// usage is printed for -h and for an unknown command.
const usage = `Usage:
  courtside init --db FILE [--key-file FILE]
  courtside serve [--addr 127.0.0.1:8080] [--db courtside.db] [--demo] [--base-url URL]
  courtside user add --db FILE --username NAME --role ROLE [--org NAME] [--email ADDR] [--phone E164]
                     [--interpreter-languages es:CERTIFIED,ru:LANGUAGE_SKILLED] [--password-stdin]
  courtside user list --db FILE
  courtside court add --db FILE --name NAME --time-zone ZONE [--opens-at HH:MM --closes-at HH:MM] [--address TEXT]
  courtside token create --db FILE --username NAME [--kind api|app|feed] [--label TEXT]
  courtside token list --db FILE --username NAME
  courtside import hearings --db FILE --org NAME --file hearings.csv [--as USERNAME]
  courtside backup --db FILE --out FILE
  courtside migrate --from FILE --to postgres://USER@HOST/DB
  courtside webhook set --db FILE --org NAME --url URL [--secret-stdin]
  courtside report --db FILE --org NAME --from DATE --to DATE [--as USERNAME]
  courtside audit verify --db FILE
  courtside keys rotate --db FILE --new-key-file FILE [--batch 500]
  courtside version
  courtside events failed --db FILE
  courtside events retry --db FILE [ID...|--all]

Every command but init and serve needs an existing database (courtside init creates one).
--db takes a SQLite file or a postgres:// URL (the key then from --key-file or COURTSIDE_KEY).
Every flag has an environment fallback: COURTSIDE_ADDR, COURTSIDE_DB, COURTSIDE_KEY, ...
"courtside COMMAND --help" lists a command's flags.
`

// exitUsage is the exit status for bad input on the command line.
const exitUsage = 2

// usageError is bad command-line input: printed as one line, exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, errHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "courtside: "+errorLine(err))
		var ue *usageError
		if errors.As(err, &ue) || courtside.ErrorCode(err) == courtside.EINVALID || courtside.ErrorCode(err) == courtside.ECONFLICT ||
			courtside.ErrorCode(err) == courtside.ENOTFOUND {
			os.Exit(exitUsage)
		}
		os.Exit(1)
	}
}

// run dispatches a command line.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return usagef("a command is required")
		}
		return nil
	}
	switch args[0] {
	case "version", "--version", "-version":
		if len(args) > 1 {
			return usagef("unexpected argument %q", args[1])
		}
		fmt.Fprintln(stdout, versionLine())
		return nil
	case "init":
		return runInit(ctx, args[1:], stdout, stderr)
	}
	switch strings.Join(args[:min(2, len(args))], " ") {
	case "user add":
		return runUserAdd(ctx, args[2:], stdin, stdout, stderr)
	case "user list":
		return runUserList(ctx, args[2:], stdout, stderr)
	case "court add":
		return runCourtAdd(ctx, args[2:], stdout, stderr)
	case "token create":
		return runTokenCreate(ctx, args[2:], stdout, stderr)
	case "token list":
		return runTokenList(ctx, args[2:], stdout, stderr)
	case "import hearings":
		return runImport(ctx, args[2:], stdout, stderr)
	case "audit verify":
		return runAuditVerify(ctx, args[2:], stdout, stderr)
	case "keys rotate":
		return runKeysRotate(ctx, args[2:], stdout, stderr)
	case "webhook set":
		return runWebhookSet(ctx, args[2:], stdin, stdout, stderr)
	case "events failed":
		return runEventsFailed(ctx, args[2:], stdout, stderr)
	case "events retry":
		return runEventsRetry(ctx, args[2:], stdout, stderr)
	}
	if args[0] == "serve" {
		return runServe(ctx, args[1:], stdout, stderr)
	}
	if args[0] == "backup" {
		return runBackup(ctx, args[1:], stdout, stderr)
	}
	if args[0] == "migrate" {
		return runMigrate(ctx, args[1:], stdout, stderr)
	}
	if args[0] == "report" {
		return runReport(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprint(stderr, usage)
	return usagef("unknown command %q", strings.Join(args, " "))
}

// errorLine renders an error as the one line a user sees: the flag or field it concerns and a
// message without internals.
func errorLine(err error) string {
	var ue *usageError
	if errors.As(err, &ue) {
		return ue.msg
	}
	code := courtside.ErrorCode(err)
	if code == courtside.EINTERNAL {
		return err.Error()
	}
	if f := courtside.ErrorField(err); f != "" {
		return flagForField(f) + ": " + courtside.ErrorMessage(err)
	}
	return courtside.ErrorMessage(err)
}

// flagForField names the command-line flag that sets a domain field.
func flagForField(field string) string {
	switch field {
	case "languages":
		return "--interpreter-languages"
	case "password":
		return "--password-stdin"
	case "timeZone":
		return "--time-zone"
	case "opensAt":
		return "--opens-at"
	case "closesAt":
		return "--closes-at"
	}
	return "--" + field
}
