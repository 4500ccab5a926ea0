# The test command of a fresh machine is `make test`: it installs what the tests need when it is
# missing (Debian's python3-caldav and vdirsyncer, the CalDAV clients the tests drive, python3-icalendar,
# Debian's chromium for the web app's browser tests, Debian's postgresql whose binaries the tests
# start a throwaway server from, the npm graphql-ws client of graph/testdata/node,
# the npm ical.js parser of calendar/testdata/node-ical and playwright-core and axe-core of
# web/testdata/browser, from their lockfiles) and runs every test.

SHELL := /bin/bash
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
GO ?= go
# The toolchain the tests and govulncheck run with, fetched through the module proxy when the
# machine has an older one: go1.26.8's standard library has known reachable vulnerabilities
# (net/http, crypto/tls, crypto/x509) fixed in go1.26.10.
export GOTOOLCHAIN := go1.26.10
# go.mod's toolchain line names the same release, so that the README's `go run` and `go build`
# compile with it too (unless the machine sets GOTOOLCHAIN=local), and one build of the cgo
# SQLite package serves go run, go build, go vet and the binary of the end-to-end tests. The
# race detector (go test -race) and the fuzzers' coverage instrumentation (make fuzz) change
# how every package is compiled, SQLite's C code included: on an empty build cache that is
# three builds of it in all, and none once cached.

.PHONY: test test-postgres deps vet fuzz vuln run bench

# The end-to-end package runs for minutes under -race on a busy 2-core machine: past go test's
# default 10 minutes a package would fail for its length alone.
TESTFLAGS ?= -race -count=1 -timeout 30m
test: deps vet vuln
	$(GO) test $(TESTFLAGS) ./...
	$(MAKE) test-postgres
	$(MAKE) fuzz

# test-postgres runs the packages whose tests pass on PostgreSQL again, each test on a database
# of its own on a throwaway server the tests start from Debian's binaries (storage/pgtest).
PG_PACKAGES := ./storage ./events ./graph ./calendar ./notify ./web ./cmd/courtside
test-postgres:
	COURTSIDE_TEST_ENGINE=postgres $(GO) test $(TESTFLAGS) $(PG_PACKAGES)

# vuln fails the build on a known vulnerability that the code can reach (govulncheck exits 3),
# in our code, a dependency or the standard library. The vulnerability database is built from
# the golang.org/x/vulndb module (fetched through the Go module proxy, like every module here),
# pinned below: bump VULNDB_VERSION to see newer reports.
GOVULNCHECK ?= golang.org/x/vuln/cmd/govulncheck@v1.9.0
VULNDB_VERSION ?= v0.0.0-20261105234957-e22db6528018
VULNDB := $(CURDIR)/.cache/vulndb-$(VULNDB_VERSION)
vuln: $(VULNDB)/index/db.json
	$(GO) run $(GOVULNCHECK) -db file://$(VULNDB) ./...

$(VULNDB)/index/db.json:
	@echo "building the vulnerability database from golang.org/x/vulndb@$(VULNDB_VERSION)"
	@dir=$$($(GO) mod download -json golang.org/x/vulndb@$(VULNDB_VERSION) | sed -n 's/^\t"Dir": "\(.*\)",$$/\1/p'); \
		test -d "$$dir/data/osv" || { echo "golang.org/x/vulndb has no data/osv"; exit 1; }; \
		rm -rf $(VULNDB).tmp && $(GO) run golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION) -vulns "$$dir/data/osv" -out $(VULNDB).tmp && \
		rm -rf $(VULNDB) && mv $(VULNDB).tmp $(VULNDB)

# fuzz runs each fuzz target briefly from its seed corpus in testdata/fuzz: FUZZTIME inputs each
# (a count, not a duration: go1.26's -fuzztime with a duration can end in a spurious deadline error).
FUZZTIME ?= 3000x
FUZZ_TARGETS := storage:FuzzImportHearings calendar:FuzzDecodeICal calendar:FuzzHandlerXML calendar:FuzzPutICal calendar:FuzzParseReply graph:FuzzOperation
# Each run logs to a temporary file of its own, removed afterwards: parallel runs never share one.
fuzz:
	@log=$$(mktemp -t courtside-fuzz.XXXXXX) && trap 'rm -f "$$log"' EXIT && \
	for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$name ($(FUZZTIME))"; \
		$(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) ./$$pkg >"$$log" 2>&1 || { cat "$$log"; exit 1; }; \
	done

# deps installs the real protocol peers the tests use, only when they are missing.
deps:
	@if ! /usr/bin/python3 -c 'import caldav, icalendar' 2>/dev/null || ! command -v vdirsyncer >/dev/null; then \
		echo "installing python3-caldav, python3-icalendar and vdirsyncer"; \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-caldav python3-icalendar vdirsyncer; \
	fi
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "installing Debian's chromium (the web app's browser tests drive it)"; \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "installing Debian's postgresql (the storage, events and end-to-end tests start a throwaway server from its binaries)"; \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; \
	fi
	@command -v gcc >/dev/null || { echo "gcc is needed for mattn/go-sqlite3 (cgo)"; exit 1; }
	@if [ ! -d graph/testdata/node/node_modules ]; then \
		command -v npm >/dev/null || { echo "npm (Node.js 20 or later) is needed: the npm graphql-ws client tests the subscriptions"; exit 1; }; \
		echo "installing the graphql-ws client's pinned packages (npm ci)"; \
		npm ci --prefix graph/testdata/node --ignore-scripts --no-audit --no-fund; \
	fi
	@if [ ! -d calendar/testdata/node-ical/node_modules ]; then \
		command -v npm >/dev/null || { echo "npm (Node.js 20 or later) is needed: the npm ical.js parser tests the webcal feeds"; exit 1; }; \
		echo "installing the ical.js parser's pinned packages (npm ci)"; \
		npm ci --prefix calendar/testdata/node-ical --ignore-scripts --no-audit --no-fund; \
	fi
	@if [ ! -d web/testdata/browser/node_modules ]; then \
		command -v npm >/dev/null || { echo "npm (Node.js 20 or later) is needed: playwright-core and axe-core run the web app's browser tests"; exit 1; }; \
		echo "installing playwright-core and axe-core, pinned (npm ci; no browser is downloaded: the tests use /usr/bin/chromium)"; \
		PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix web/testdata/browser --ignore-scripts --no-audit --no-fund; \
	fi
	@if [ ! -d calendar/testdata/node-tsdav/node_modules ]; then \
		command -v npm >/dev/null || { echo "npm (Node.js 20 or later) is needed: the npm tsdav client tests the CalDAV server"; exit 1; }; \
		echo "installing the tsdav client's pinned packages (npm ci)"; \
		npm ci --prefix calendar/testdata/node-tsdav --ignore-scripts --no-audit --no-fund; \
	fi

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }

run:
	$(GO) run ./cmd/courtside serve --demo

# bench runs every benchmark in one run (cmd/courtside-bench) and writes
# docs/benchmarks.md; it installs Debian's radicale, the CalDAV server it compares with, when
# missing. BENCHFLAGS=-quick runs a scaled-down smoke test.
bench:
	@command -v radicale >/dev/null || { echo "installing radicale"; $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq radicale; }
	$(GO) build -o .cache/bench/courtside ./cmd/courtside
	$(GO) run ./cmd/courtside-bench -courtside .cache/bench/courtside $(BENCHFLAGS)
