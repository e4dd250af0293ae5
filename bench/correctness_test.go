package bench

import (
	"os"
	"strings"
	"testing"
)

// TestCorrectness is a small run of the correctness table, quick enough
// for CI: tabkit's Update, own-key and per-tab writes must lose nothing,
// and a flood must stop at the quota.
func TestCorrectness(t *testing.T) {
	res, err := RunCorrectness(CorrectnessConfig{
		RedisURL:     os.Getenv("TABKIT_REDIS_URL"),
		PostgresURL:  os.Getenv("TABKIT_PG_URL"),
		Clients:      []int{2, 8},
		FloodN:       300,
		FloodQuota:   100,
		FloodWorkers: 4,
	}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Lost {
		t.Logf("%-18s %-8s clients %2d: kept %2d of %2d (overlapped %v, failed %d)", r.Library, r.Pattern, r.Clients, r.Kept, r.Expected, r.Overlapped, r.Failed)
		if r.Failed > 0 {
			t.Errorf("%s %s %d: %d requests failed", r.Library, r.Pattern, r.Clients, r.Failed)
		}
		if strings.HasPrefix(r.Library, "tabkit") && r.Pattern != "naive" && r.Kept != r.Expected {
			t.Errorf("%s %s %d: kept %d, want %d", r.Library, r.Pattern, r.Clients, r.Kept, r.Expected)
		}
	}
	for _, r := range res.Flood {
		t.Logf("%-18s flood %d (%s): stored %d, statuses %v", r.Library, r.Requests, r.Quota, r.Stored, r.Status)
		if (r.Library == "tabkit-bolt" || r.Library == "tabkit-redis" || r.Library == "tabkit-postgres") && r.Stored > 100 {
			t.Errorf("%s: stored %d sessions past a quota of 100", r.Library, r.Stored)
		}
	}
}
