package bench

import (
	"fmt"
	"net/http"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	scsbolt "github.com/alexedwards/scs/boltstore"
	scs "github.com/alexedwards/scs/v2"
	bolt "go.etcd.io/bbolt"
)

// ProbeRow is the outcome of reading one session while other clients
// create sessions in the same bbolt file.
type ProbeRow struct {
	Store    string  `json:"store"`
	Seconds  float64 `json:"seconds"`
	Reads    int64   `json:"reads"`
	BadReads int64   `json:"bad_reads"`
	Faults   int64   `json:"faults"`
}

// ProbeSCSBolt reads one existing session from 16 clients while 16 others
// create new sessions, so the bbolt file grows and is re-mapped, for dur,
// once with scs's bbolt store as published and once with the repaired
// Find that the benchmarks use. A bad read is a wrong value or an error
// status; a fault is a memory fault, turned into a panic so that the
// process survives to report it.
func ProbeSCSBolt(dir string, dur time.Duration) ([]ProbeRow, error) {
	var rows []ProbeRow
	for _, upstream := range []bool{true, false} {
		db, err := bolt.Open(filepath.Join(dir, fmt.Sprintf("probe-%v.db", upstream)), 0o600, &bolt.Options{Timeout: time.Second})
		if err != nil {
			return nil, err
		}
		var st scs.Store = newSCSBolt(db)
		name := "scs-boltstore, Find copying in its transaction"
		if upstream {
			st = scsbolt.NewWithCleanupInterval(db, 0)
			name = "scs-boltstore as published"
		}
		app := newSCS(st, nil, db.Close, Options{})
		row, err := probe(app, dur)
		row.Store = name
		if cerr := app.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func probe(app *App, dur time.Duration) (ProbeRow, error) {
	row := ProbeRow{Seconds: dur.Seconds()}
	cookies, err := app.NewSession()
	if err != nil {
		return row, err
	}
	var reads, bad, faults atomic.Int64
	deadline := time.Now().Add(dur)
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			debug.SetPanicOnFault(true)
			for i := 0; time.Now().Before(deadline); i++ {
				if g%2 == 0 {
					app.Do(http.MethodPost, "/write?"+strconv.Itoa(i), nil)
					continue
				}
				reads.Add(1)
				ok, fault := probeRead(app, cookies)
				if !ok {
					bad.Add(1)
				}
				if fault {
					faults.Add(1)
				}
			}
		})
	}
	wg.Wait()
	row.Reads, row.BadReads, row.Faults = reads.Load(), bad.Load(), faults.Load()
	return row, nil
}

// probeRead reports whether a read returned the session's value, and
// whether it ended in a memory fault.
func probeRead(app *App, cookies []*http.Cookie) (ok, fault bool) {
	defer func() {
		if recover() != nil {
			ok, fault = false, true
		}
	}()
	rec := app.Do(http.MethodGet, "/read", cookies)
	return rec.Code == http.StatusOK && rec.Body.String() == "first", false
}
