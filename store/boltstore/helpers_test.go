package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/storetest"
	bolt "go.etcd.io/bbolt"
)

// start is where the tests' clocks begin.
var start = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// openTest opens a store in a fresh file with a manual clock and no
// background sweeper. At cleanup it closes the store and checks that the
// file's indexes and counters agree with its records.
func openTest(t testing.TB, opts *Options) (*Store, *storetest.Clock) {
	t.Helper()
	clock := storetest.NewClock(start)
	o := Options{SweepInterval: -1}
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = clock.Now
	}
	if o.SweepInterval == 0 {
		o.SweepInterval = -1
	}
	path := filepath.Join(t.TempDir(), "sessions.db")
	s, err := Open(path, &o)
	if err != nil {
		t.Fatalf("Open: got %v, want nil", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: got %v, want nil", err)
		}
		checkFile(t, path)
	})
	return s, clock
}

// checkFile opens a closed store's file and checks that every index entry
// and counter matches the records, and that no value lies outside a
// session or tab.
func checkFile(t testing.TB, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Errorf("reopen %s: %v", path, err)
		return
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("%s: bbolt check: %v", path, err)
		}
		b, err := openBuckets(tx)
		if err != nil {
			return err
		}
		for _, problem := range inconsistencies(b) {
			t.Errorf("%s: %s", path, problem)
		}
		return nil
	})
	if err != nil {
		t.Errorf("check %s: %v", path, err)
	}
}

// inconsistencies lists every way the buckets disagree with each other.
func inconsistencies(b buckets) []string {
	var problems []string
	metas := make(map[string]store.Meta)
	var total int64
	_ = b.meta.ForEach(func(k, v []byte) error {
		m, err := store.ParseMeta(v)
		if err != nil {
			problems = append(problems, fmt.Sprintf("meta %q: %v", k, err))
			return nil
		}
		metas[string(k)] = m
		total += m.Bytes
		return nil
	})
	if c := readCounters(b.stats); c.sessions != int64(len(metas)) || c.bytes != total {
		problems = append(problems, fmt.Sprintf("counters %+v, records hold %d sessions and %d bytes", c, len(metas), total))
	}
	for _, index := range []struct {
		name   string
		bucket *bolt.Bucket
		at     func(*store.Meta) time.Time
	}{
		{"expiry", b.expiry, (*store.Meta).ExpiresAt},
		{"lastseen", b.lastSeen, func(m *store.Meta) time.Time { return m.LastSeen }},
	} {
		want := make(map[string]bool)
		for id, m := range metas {
			if at := index.at(&m); !at.IsZero() {
				want[string(indexKey(nil, at, id))] = true
			}
		}
		_ = index.bucket.ForEach(func(k, _ []byte) error {
			if !want[string(k)] {
				problems = append(problems, fmt.Sprintf("%s: dangling entry %x", index.name, k))
			}
			delete(want, string(k))
			return nil
		})
		for k := range want {
			problems = append(problems, fmt.Sprintf("%s: missing entry %x", index.name, k))
		}
	}
	wantPrincipals := make(map[string]bool)
	for id, m := range metas {
		if m.Principal != "" {
			wantPrincipals[string(principalPrefix([]byte(nil), m.Principal))+id] = true
		}
	}
	principals, err := b.principals()
	if err != nil {
		return append(problems, err.Error())
	}
	_ = principals.ForEach(func(k, _ []byte) error {
		if !wantPrincipals[string(k)] {
			problems = append(problems, fmt.Sprintf("principals: dangling entry %x", k))
		}
		delete(wantPrincipals, string(k))
		return nil
	})
	for k := range wantPrincipals {
		problems = append(problems, fmt.Sprintf("principals: missing entry %x", k))
	}
	if format := readInt(b.stats, statFormat); format != fileFormat {
		problems = append(problems, fmt.Sprintf("file format %d, want %d", format, fileFormat))
	}
	sessionBytes := make(map[string]int64)
	tabBytes := make(map[string]map[uint32]int64)
	_ = b.values.ForEach(func(k, v []byte) error {
		n := int(k[0])
		id := string(k[1 : 1+n])
		m, ok := metas[id]
		key, err := store.ParseKey(k[1+n:])
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("value %q of missing session", k))
			return nil
		case err != nil:
			problems = append(problems, fmt.Sprintf("value %q: %v", k, err))
			return nil
		case key.InTab && !m.IsOpen(key.Tab):
			problems = append(problems, fmt.Sprintf("value %q in closed tab", k))
		}
		size := int64(len(key.Name) + len(v))
		sessionBytes[id] += size
		if key.InTab {
			if tabBytes[id] == nil {
				tabBytes[id] = make(map[uint32]int64)
			}
			tabBytes[id][key.Tab] += size
		}
		return nil
	})
	for id, m := range metas {
		if sessionBytes[id] != m.Bytes {
			problems = append(problems, fmt.Sprintf("session %q: meta says %d bytes, values hold %d", id, m.Bytes, sessionBytes[id]))
		}
		for n, info := range m.Tabs {
			if tabBytes[id][n] != info.Bytes {
				problems = append(problems, fmt.Sprintf("session %q tab %d: meta says %d bytes, values hold %d", id, n, info.Bytes, tabBytes[id][n]))
			}
		}
	}
	slices.Sort(problems)
	return problems
}

// bulkCommit applies deltas in one write transaction, bypassing the
// committer, to set up many sessions quickly.
func bulkCommit(t testing.TB, s *Store, ids []string, delta func(i int) store.Delta) {
	t.Helper()
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := openBuckets(tx)
		if err != nil {
			return err
		}
		now := s.opts.Now.Now()
		for i, id := range ids {
			d := delta(i)
			if _, err := s.commitInTx(b, id, &d, now, new(removals)); err != nil {
				return fmt.Errorf("%s: %w", id, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("bulk commit: %v", err)
	}
}

// bucketLen counts a bucket's keys.
func bucketLen(t testing.TB, s *Store, name []byte) int {
	t.Helper()
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(name).Stats().KeyN
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// gate holds the committer's first round until released, so that ops
// submitted meanwhile queue up and share the next round. It records the
// size of every round.
type gate struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once

	// mu guards rounds.
	mu     sync.Mutex
	rounds [][]*op
}

func holdFirstRound(s *Store) *gate {
	g := &gate{entered: make(chan struct{}), release: make(chan struct{})}
	s.hooks.beforeRound = func(batch []*op) {
		g.mu.Lock()
		g.rounds = append(g.rounds, slices.Clone(batch))
		g.mu.Unlock()
		g.once.Do(func() {
			close(g.entered)
			<-g.release
		})
	}
	return g
}

func (g *gate) roundSizes() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	var sizes []int
	for _, r := range g.rounds {
		sizes = append(sizes, len(r))
	}
	return sizes
}

// waitQueued waits until n ops wait for a round. It yields rather than
// sleeps: the ops are on their way and need only to be scheduled.
func waitQueued(s *Store, n int) {
	for s.commits.queued() < n {
		runtime.Gosched()
	}
}

// plug starts a commit that holds the committer in its first round and
// returns a function that waits for it.
func plug(t *testing.T, s *Store, g *gate) (wait func()) {
	t.Helper()
	bulkCommit(t, s, []string{"plug"}, func(int) store.Delta { return store.Delta{Create: true} })
	done := make(chan error, 1)
	go func() {
		_, err := s.Commit(context.Background(), "plug", setDelta(store.SessionKey("n"), "1"))
		done <- err
	}()
	<-g.entered
	return func() {
		if err := <-done; err != nil {
			t.Errorf("plug commit: %v", err)
		}
	}
}

func setDelta(k store.Key, v string) store.Delta {
	return store.Delta{Set: map[store.Key][]byte{k: []byte(v)}}
}

// create makes session id, idle for an hour, with session-wide values.
func create(t testing.TB, s *Store, id string, values map[string]string) store.Meta {
	t.Helper()
	d := store.Delta{Create: true, IdleDeadline: s.opts.Now.Now().Add(time.Hour), Set: map[store.Key][]byte{}}
	for k, v := range values {
		d.Set[store.SessionKey(k)] = []byte(v)
	}
	m, err := s.Commit(context.Background(), id, d)
	if err != nil {
		t.Fatalf("create %s: %v", id, err)
	}
	return m
}

// load returns session id's session-wide values, or nil when it is absent.
func load(t testing.TB, s *Store, id string) map[string]string {
	t.Helper()
	rec, found, err := s.Load(context.Background(), id)
	if errors.Is(err, store.ErrMoved) {
		return nil // moved away: gone, and saying so
	}
	if err != nil {
		t.Fatalf("Load %s: %v", id, err)
	}
	if !found {
		return nil
	}
	values := make(map[string]string)
	for k, v := range rec.Values {
		name := k.Name
		if k.InTab {
			name = fmt.Sprintf("%d/%s", k.Tab, k.Name)
		}
		values[name] = string(v)
	}
	return values
}

func be(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

var _ = bytes.Equal
