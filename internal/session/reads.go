package session

import "github.com/tabkit/tabkit/store"

// reads remembers the stored value of each key a request read, for the
// expectations of the keys it then writes. A request reads a handful of
// keys, so they live in a small array inside the Unit, and a map only
// past that.
type reads struct {
	inline [4]readValue
	n      int
	more   map[store.Key]store.Expected
}

type readValue struct {
	key  store.Key
	seen store.Expected
}

func (r *reads) get(k store.Key) (store.Expected, bool) {
	for i := range r.n {
		if r.inline[i].key == k {
			return r.inline[i].seen, true
		}
	}
	e, ok := r.more[k]
	return e, ok
}

// note records e for k unless k was read before.
func (r *reads) note(k store.Key, e store.Expected) {
	if _, seen := r.get(k); seen {
		return
	}
	r.put(k, e)
}

// refresh replaces what was read of k, if it was.
func (r *reads) refresh(k store.Key, e store.Expected) {
	if _, seen := r.get(k); seen {
		r.put(k, e)
	}
}

func (r *reads) put(k store.Key, e store.Expected) {
	for i := range r.n {
		if r.inline[i].key == k {
			r.inline[i].seen = e
			return
		}
	}
	if _, ok := r.more[k]; ok || r.n == len(r.inline) {
		if r.more == nil {
			r.more = make(map[store.Key]store.Expected)
		}
		r.more[k] = e
		return
	}
	r.inline[r.n] = readValue{k, e}
	r.n++
}

// forget drops every key match accepts.
func (r *reads) forget(match func(store.Key) bool) {
	kept := 0
	for i := range r.n {
		if !match(r.inline[i].key) {
			r.inline[kept] = r.inline[i]
			kept++
		}
	}
	clear(r.inline[kept:r.n])
	r.n = kept
	for k := range r.more {
		if match(k) {
			delete(r.more, k)
		}
	}
}

func (r *reads) reset() { *r = reads{} }
