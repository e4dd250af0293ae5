// Command correctness runs the lost-update and flood experiments of
// package bench and prints the results as JSON.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tabkit/tabkit/bench"
)

func main() {
	clients := flag.String("clients", "2,16", "comma-separated numbers of concurrent requests per session")
	floodN := flag.Int("flood", 10000, "cookieless requests per flood")
	quota := flag.Int64("quota", 1000, "tabkit's MaxSessions during the flood")
	workers := flag.Int("workers", 8, "concurrent clients of the flood")
	probe := flag.Duration("probe", 10*time.Second, "how long to probe each scs bbolt store (0 skips)")
	flag.Parse()
	cfg := bench.CorrectnessConfig{
		RedisURL:     os.Getenv("TABKIT_REDIS_URL"),
		PostgresURL:  os.Getenv("TABKIT_PG_URL"),
		FloodN:       *floodN,
		FloodQuota:   *quota,
		FloodWorkers: *workers,
		Probe:        *probe,
	}
	for _, s := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "correctness: bad -clients entry %q\n", s)
			os.Exit(2)
		}
		cfg.Clients = append(cfg.Clients, n)
	}
	dir, err := os.MkdirTemp("", "tabkit-correctness")
	if err != nil {
		fmt.Fprintln(os.Stderr, "correctness:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	res, err := bench.RunCorrectness(cfg, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "correctness:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		fmt.Fprintln(os.Stderr, "correctness:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
}
