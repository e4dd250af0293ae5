package bench

import (
	"os"
	"strings"
	"testing"
)

// TestCorrectness is a small run of the correctness table, quick enough
// for CI: tabkit's Update, own-key and per-tab writes must lose nothing
// and be refused never; its naive writes may be refused (409) but never
// acknowledged and then lost; and a flood must stop at the quota.
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
		t.Logf("%-18s %-8s clients %2d: acknowledged %2d, refused %2d, kept %2d of %2d (overlapped %v, failed %d)",
			r.Library, r.Pattern, r.Clients, r.Acknowledged, r.Refused, r.Kept, r.Expected, r.Overlapped, r.Failed)
		if r.Failed > 0 {
			t.Errorf("%s %s %d: %d requests failed", r.Library, r.Pattern, r.Clients, r.Failed)
		}
		if !strings.HasPrefix(r.Library, "tabkit") {
			continue
		}
		if r.Pattern != "naive" && (r.Kept != r.Expected || r.Refused != 0) {
			t.Errorf("%s %s %d: kept %d, refused %d, want %d and 0", r.Library, r.Pattern, r.Clients, r.Kept, r.Refused, r.Expected)
		}
		if r.Kept != r.Acknowledged {
			t.Errorf("%s %s %d: acknowledged %d, kept %d, want them equal", r.Library, r.Pattern, r.Clients, r.Acknowledged, r.Kept)
		}
		if r.Pattern == "naive" && r.Overlapped && r.Kept != 1 {
			t.Errorf("%s naive %d, all overlapping: kept %d, want 1 (the rest refused)", r.Library, r.Clients, r.Kept)
		}
	}
	for _, r := range res.Flood {
		t.Logf("%-18s flood %d (%s): stored %d, statuses %v", r.Library, r.Requests, r.Quota, r.Stored, r.Status)
		if (r.Library == "tabkit-bolt" || r.Library == "tabkit-redis" || r.Library == "tabkit-postgres") && r.Stored > 100 {
			t.Errorf("%s: stored %d sessions past a quota of 100", r.Library, r.Stored)
		}
	}
}
