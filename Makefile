# The test command of a fresh machine is `make test`: it installs what the tests need when it is
# missing (Debian's python3-caldav and vdirsyncer, the CalDAV clients the tests drive, and the npm
# graphql-ws client of graph/testdata/node, from its lockfile) and runs every test.

SHELL := /bin/bash
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
GO ?= go

.PHONY: test deps vet run

test: deps vet
	$(GO) test -race -count=1 ./...

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

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }

run:
	$(GO) run ./cmd/courtside serve --demo
