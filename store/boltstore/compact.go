package boltstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tabkit/tabkit/store"
	bolt "go.etcd.io/bbolt"
)

// CompactResult reports the file's size before and after a compaction.
type CompactResult struct {
	Before int64 `json:"before"`
	After  int64 `json:"after"`
}

// compactTxSize is how many bytes bolt.Compact copies per write
// transaction into the new file, which bounds its memory use.
const compactTxSize = 64 << 20

// Compact rewrites the database into a new file holding only live pages
// and puts it in place of the old one, which gives the space freed by
// removed sessions back to the file system: bbolt itself never shrinks a
// file. Calls to the store wait while it runs (it has the file to itself,
// as Close has), so it is for quiet moments; nothing is lost, and on any
// error before the swap the old file stays as it was.
//
// The new file is written next to the old one (the directory needs room
// for a second copy of the live data), synced, and renamed over it, so a
// crash leaves either file whole. The store then reopens it; should that
// fail, the store is closed and every call returns store.ErrClosed.
//
// Like Close, Compact waits for List to return; a List callback that
// calls the store meanwhile would wait for Compact, so do not compact
// while such a List runs.
func (s *Store) Compact(ctx context.Context) (CompactResult, error) {
	if err := ctx.Err(); err != nil {
		return CompactResult{}, err
	}
	// The write lock waits for every call in progress, the sweeper's
	// included, and holds off new ones: no transaction is open while the
	// file is swapped.
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return CompactResult{}, store.ErrClosed
	}
	path := s.db.Path()
	var res CompactResult
	fi, err := os.Stat(path)
	if err != nil {
		return res, fmt.Errorf("boltstore: compact: %w", err)
	}
	res.Before = fi.Size()

	db, err := replaceFile(s.db, path, &s.opts)
	if db == nil {
		s.closed = true
	} else {
		s.db = db
	}
	if err != nil {
		return res, fmt.Errorf("boltstore: compact: %w", err)
	}
	if fi, err := os.Stat(path); err == nil {
		res.After = fi.Size()
	}
	return res, nil
}

// replaceFile copies the live data of db, the open file at path, into a
// new file, puts it in place of the old one and reopens it. It returns the
// handle to use afterwards: db itself when it failed before the swap (the
// old file is untouched), nil when the reopening failed (db is closed
// too), and the new handle otherwise.
func replaceFile(db *bolt.DB, path string, o *Options) (*bolt.DB, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return db, err
	}
	tmp, err := compactInto(db, path, fi.Mode().Perm())
	if err != nil {
		return db, err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return db, err
	}
	syncDir(filepath.Dir(path))

	// The old handle still locks the old file, now unlinked; the new one
	// is opened before it is let go.
	fresh, err := bolt.Open(path, o.FileMode, &bolt.Options{Timeout: o.lockTimeout()})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("reopening %s: %w", path, err)
	}
	if err := db.Close(); err != nil {
		return fresh, fmt.Errorf("closing the old file: %w", err)
	}
	return fresh, nil
}

// rewrite is replaceFile for Open, which gives up on any error: the
// handle is closed unless the rewrite succeeded.
func rewrite(db *bolt.DB, path string, o *Options) (*bolt.DB, error) {
	fresh, err := replaceFile(db, path, o)
	if err != nil {
		if fresh != nil {
			_ = fresh.Close()
		}
		return nil, err
	}
	return fresh, nil
}

// compactInto copies the live data of src into a new, synced file next
// to path and returns its name. On error nothing is left behind.
func compactInto(src *bolt.DB, path string, mode os.FileMode) (tmp string, err error) {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".compact-*")
	if err != nil {
		return "", err
	}
	tmp = f.Name()
	_ = f.Close()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if err := os.Chmod(tmp, mode); err != nil {
		return "", err
	}
	dst, err := bolt.Open(tmp, mode, &bolt.Options{Timeout: defaultTimeout})
	if err != nil {
		return "", err
	}
	// bbolt syncs each transaction it commits, so dst is on disk once
	// Compact returns; Close unmaps it.
	if err := errors.Join(bolt.Compact(dst, src, compactTxSize), dst.Close()); err != nil {
		return "", err
	}
	return tmp, nil
}

// syncDir makes a rename in dir durable. Failure is not reported: some
// file systems cannot sync a directory, and the data itself is synced.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
