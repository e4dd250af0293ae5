package soak

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/tabkit/tabkit/internal/demoproc"
)

// demoBin is the pos-demo binary TestMain builds for every test here.
var demoBin string

// testPIN is the cashier PIN every demo of these tests is started with.
const testPIN = "8642"

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

// buildAndRun builds the demo once, without -race: the demo is the
// subject, not the test's own code, and a race-built server would be
// several times slower under the loads here.
func buildAndRun(m *testing.M) int {
	bin, cleanup, err := demoproc.Build(false)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak: building the demo:", err)
		return 1
	}
	defer cleanup()
	demoBin = bin
	return m.Run()
}

// demoConfig says how to start a demo.
type demoConfig struct {
	db         string   // the bbolt file (-db)
	signingKey string   // hex key for TABKIT_SIGNING_KEYS; "" for unsigned cookies
	args       []string // further flags
}

// startTimeout bounds how long a demo may take to open its file and
// listen.
const startTimeout = 20 * time.Second

// startDemo starts the demo on a port the kernel picks and waits until it
// logs the address it listens on. The process is killed when the test
// ends if it is still running.
func startDemo(t *testing.T, cfg demoConfig) *demoproc.Demo {
	t.Helper()
	return demoproc.Start(t, demoproc.Command{
		Bin:          demoBin,
		Args:         append([]string{"-db", cfg.db, "-pin", testPIN}, cfg.args...),
		Env:          demoproc.Environ(cfg.signingKey),
		StartTimeout: startTimeout,
	})
}
