package boltstore

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tabkit/tabkit/store"
	bolt "go.etcd.io/bbolt"
)

func TestOpenLocked(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
	}{
		{"short timeout", 100 * time.Millisecond},
		{"no wait", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first, _ := openTest(t, nil)
			began := time.Now()
			second, err := Open(first.Path(), &Options{Timeout: tt.timeout, SweepInterval: -1})
			if err == nil {
				second.Close()
				t.Fatal("second Open: got nil error, want ErrLocked")
			}
			if !errors.Is(err, ErrLocked) {
				t.Errorf("second Open: got %v, want ErrLocked", err)
			}
			// A generous bound: the point is that Open gives up instead
			// of hanging, not how precisely it keeps time.
			if waited := time.Since(began); waited > max(tt.timeout, 0)+5*time.Second {
				t.Errorf("second Open waited %v with Timeout %v", waited, tt.timeout)
			}
			// The first store is unaffected.
			create(t, first, "a", map[string]string{"k": "v"})
		})
	}
}

func TestOpenReleasesLockOnClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	for i := range 2 {
		s, err := Open(path, &Options{Timeout: -1, SweepInterval: -1})
		if err != nil {
			t.Fatalf("Open #%d: got %v, want nil", i+1, err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close #%d: got %v, want nil", i+1, err)
		}
	}
}

func TestOpenRefusesOtherFiles(t *testing.T) {
	tests := []struct {
		name  string
		write func(t *testing.T, path string)
	}{
		{"text file", func(t *testing.T, path string) {
			writeFile(t, path, []byte("name,price\ncoffee,2.50\n"))
		}},
		{"random bytes", func(t *testing.T, path string) {
			writeFile(t, path, bytes.Repeat([]byte{0x5a, 0xa5, 0x01, 0xfe}, 4096))
		}},
		{"other program's bbolt file", func(t *testing.T, path string) {
			rawUpdate(t, path, func(tx *bolt.Tx) error {
				b, err := tx.CreateBucket([]byte("orders"))
				if err != nil {
					return err
				}
				return b.Put([]byte("1"), []byte("coffee"))
			})
		}},
		{"unknown format", func(t *testing.T, path string) {
			rawUpdate(t, path, func(tx *bolt.Tx) error {
				for _, name := range [][]byte{bucketMeta, bucketValues, bucketExpiry, bucketLastSeen, bucketStats} {
					if _, err := tx.CreateBucket(name); err != nil {
						return err
					}
				}
				return tx.Bucket(bucketStats).Put(statFormat, be(fileFormat+1))
			})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sessions.db")
			tt.write(t, path)
			before := readFile(t, path)
			s, err := Open(path, &Options{SweepInterval: -1})
			if err == nil {
				s.Close()
				t.Fatal("Open: got nil error, want ErrNotDatabase")
			}
			if !errors.Is(err, ErrNotDatabase) {
				t.Errorf("Open: got %v, want ErrNotDatabase", err)
			}
			if !bytes.Equal(readFile(t, path), before) {
				t.Error("Open changed a file it refused")
			}
		})
	}
}

func TestOpenFileMode(t *testing.T) {
	tests := []struct {
		name string
		mode os.FileMode
		want os.FileMode
	}{
		{"default", 0, 0o600},
		{"explicit", 0o640, 0o640},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := openTest(t, &Options{FileMode: tt.mode})
			fi, err := os.Stat(s.Path())
			if err != nil {
				t.Fatal(err)
			}
			// The umask may only take bits away; 0600 and 0640 survive
			// the usual 022.
			if got := fi.Mode().Perm(); got != tt.want {
				t.Errorf("file mode: got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOpenRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"negative MaxSessions", Options{MaxSessions: -1}},
		{"negative MaxBytes", Options{MaxBytes: -1}},
		{"negative MaxSessionBytes", Options{MaxSessionBytes: -1}},
		{"unknown policy", Options{WhenFull: FullPolicy(7)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sessions.db")
			if s, err := Open(path, &tt.opts); err == nil {
				s.Close()
				t.Fatal("Open: got nil error, want one")
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("Open created %s despite bad options", path)
			}
		})
	}
}

func TestOpenNilOptions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatalf("Open: got %v, want nil", err)
	}
	if s.opts.Timeout != time.Second || s.opts.SweepInterval != time.Minute || s.opts.FileMode != 0o600 || s.opts.WhenFull != Refuse {
		t.Errorf("options: got %+v, want DefaultOptions", s.opts)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: got %v, want nil", err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	ctx := context.Background()
	s, err := Open(path, &Options{SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	want, err := s.Commit(ctx, "a", store.Delta{
		Create:   true,
		EditMeta: func(m *store.Meta) error { m.Tabs[1] = store.TabInfo{Label: "register 1"}; return nil },
		Set: map[store.Key][]byte{
			store.SessionKey("user"):   []byte("ana"),
			store.TabKey(1, "cart"):    []byte(`["coffee"]`),
			store.TabKey(0, "scratch"): {},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkFile(t, path)

	s, err = Open(path, &Options{SweepInterval: -1})
	if err != nil {
		t.Fatalf("reopen: got %v, want nil", err)
	}
	defer s.Close()
	rec, found, err := s.Load(ctx, "a")
	if err != nil || !found {
		t.Fatalf("Load after reopen: got found=%v err=%v, want the session", found, err)
	}
	if rec.Meta.Version != want.Version || rec.Meta.Bytes != want.Bytes || rec.Meta.Tabs[1].Label != "register 1" {
		t.Errorf("meta after reopen: got %+v, want %+v", rec.Meta, want)
	}
	if got := string(rec.Values[store.TabKey(1, "cart")]); got != `["coffee"]` {
		t.Errorf("tab value after reopen: got %q, want %q", got, `["coffee"]`)
	}
	if v, ok := rec.Values[store.TabKey(0, "scratch")]; !ok || len(v) != 0 {
		t.Errorf("empty value after reopen: got %q, %v, want empty, true", v, ok)
	}
	st, err := s.Stats(ctx)
	if err != nil || st.Sessions != 1 || st.Bytes != want.Bytes {
		t.Errorf("Stats after reopen: got %+v, %v, want 1 session of %d bytes", st, err, want.Bytes)
	}
}

func TestClosedStore(t *testing.T) {
	s, _ := openTest(t, &Options{SweepInterval: time.Hour})
	create(t, s, "a", nil)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: got %v, want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: got %v, want nil", err)
	}
	select {
	case <-s.sweeperDone:
	default:
		t.Error("the sweeper goroutine is still running after Close")
	}
	ctx := context.Background()
	calls := []struct {
		name string
		call func() error
	}{
		{"Load", func() error { _, _, err := s.Load(ctx, "a"); return err }},
		{"Commit", func() error { _, err := s.Commit(ctx, "a", setDelta(store.SessionKey("k"), "v")); return err }},
		{"Delete", func() error { return s.Delete(ctx, "a") }},
		{"Sweep", func() error { _, err := s.Sweep(ctx); return err }},
		{"List", func() error { return s.List(ctx, func(string, store.Meta) bool { return true }) }},
		{"Stats", func() error { _, err := s.Stats(ctx); return err }},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s after Close: got %v, want ErrClosed", c.name, err)
		}
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func rawUpdate(t *testing.T, path string, fn func(*bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}
