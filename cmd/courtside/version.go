package main

import (
	"fmt"
	"runtime/debug"
)

// versionLine describes the binary from the build information the Go toolchain stamps into
// it: the module version, the commit and its time, whether the tree held uncommitted
// changes, and the Go release it was built with.
func versionLine() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "courtside (no build information)"
	}
	version := info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	var revision, at, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	line := "courtside " + version
	if revision != "" {
		if len(revision) > 12 {
			revision = revision[:12]
		}
		line += fmt.Sprintf(", commit %s", revision)
		if at != "" {
			line += " of " + at
		}
		if modified == "true" {
			line += " with uncommitted changes"
		}
	}
	return line + ", " + info.GoVersion
}
