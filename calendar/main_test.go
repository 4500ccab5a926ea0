package calendar_test

import (
	"testing"

	"courtside/storage/pgtest"
)

// TestMain stops the throwaway PostgreSQL server when the tests ran on it
// (COURTSIDE_TEST_ENGINE=postgres).
func TestMain(m *testing.M) { pgtest.Main(m) }
