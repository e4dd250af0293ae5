package session

import (
	"fmt"
	"testing"

	"github.com/tabkit/tabkit/store"
)

func TestReadsBeyondTheInlineArray(t *testing.T) {
	var r reads
	const n = 10
	for i := range n {
		r.note(store.SessionKey(fmt.Sprint(i)), store.Expected{Value: []byte{byte(i)}, Found: true})
		r.note(store.SessionKey(fmt.Sprint(i)), store.Expected{}) // a second read keeps the first
	}
	r.refresh(store.SessionKey("3"), store.Expected{Value: []byte("x"), Found: true})
	r.refresh(store.SessionKey("8"), store.Expected{})
	r.refresh(store.SessionKey("never"), store.Expected{Found: true})
	r.forget(func(k store.Key) bool { return k.Name == "1" || k.Name == "9" })
	for i := range n {
		k := store.SessionKey(fmt.Sprint(i))
		e, ok := r.get(k)
		switch {
		case i == 1 || i == 9:
			if ok {
				t.Errorf("%s: still remembered after forget", k.Name)
			}
		case i == 3:
			if !ok || string(e.Value) != "x" {
				t.Errorf("%s: got %q, %v, want the refreshed value", k.Name, e.Value, ok)
			}
		case i == 8:
			if !ok || e.Found {
				t.Errorf("%s: got %+v, %v, want refreshed to missing", k.Name, e, ok)
			}
		default:
			if !ok || !e.Found || len(e.Value) != 1 || e.Value[0] != byte(i) {
				t.Errorf("%s: got %+v, %v, want the first read", k.Name, e, ok)
			}
		}
	}
	if _, ok := r.get(store.SessionKey("never")); ok {
		t.Errorf("refresh of a key never read made it read")
	}
}
