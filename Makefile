# The test command of a fresh machine is `make test`: it installs what the tests need when it is
# missing (Debian's python3-caldav and vdirsyncer, the CalDAV clients the tests drive, python3-icalendar,
# the npm graphql-ws client of graph/testdata/node and the npm ical.js parser of
# calendar/testdata/node-ical, from their lockfiles) and runs every test.

SHELL := /bin/bash
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
GO ?= go

.PHONY: test deps vet fuzz run

test: deps vet
	$(GO) test -race -count=1 ./...
	$(MAKE) fuzz

# fuzz runs each fuzz target briefly from its seed corpus in testdata/fuzz (FUZZTIME each).
FUZZTIME ?= 8s
FUZZ_TARGETS := storage:FuzzImportHearings calendar:FuzzDecodeICal calendar:FuzzHandlerXML graph:FuzzOperation
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$name ($(FUZZTIME))"; \
		$(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) ./$$pkg >/tmp/courtside-fuzz.log 2>&1 || { cat /tmp/courtside-fuzz.log; exit 1; }; \
	done

# deps installs the real protocol peers the tests use, only when they are missing.
deps:
	@if ! /usr/bin/python3 -c 'import caldav, icalendar' 2>/dev/null || ! command -v vdirsyncer >/dev/null; then \
		echo "installing python3-caldav, python3-icalendar and vdirsyncer"; \
		$(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-caldav python3-icalendar vdirsyncer; \
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

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }

run:
	$(GO) run ./cmd/courtside serve --demo
