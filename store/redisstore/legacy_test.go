package redisstore

import (
	"slices"
	"testing"
	"time"

	"github.com/tabkit/tabkit/admin"
	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/store/storetest"
)

// TestLegacyIDs stores sessions the way kit did before IDs were hashed,
// under their raw tokens (no '.', so the whole ID is the key's tag):
// Load, List and Delete work on them, and admin.Rekey moves each to
// store.HashToken of its token with everything it holds.
func TestLegacyIDs(t *testing.T) {
	onEachServer(t, func(t *testing.T, url string) {
		clock := storetest.NewClock(time.Now().Truncate(time.Millisecond))
		s := newTestStoreAt(t, url, Options{Now: clock.Now, SweepInterval: -1})
		ctx := t.Context()
		otp, cart := store.SessionKey("otp"), store.TabKey(1, "cart")
		tokens := []string{newToken(), newToken(), newToken()}
		for _, token := range tokens {
			mustCommit(t, s, token, store.Delta{
				Create: true, IdleDeadline: clock.Now().Add(time.Hour),
				EditMeta: func(m *store.Meta) error {
					m.Tabs[1] = store.TabInfo{Created: clock.Now(), LastSeen: clock.Now(), Label: "till"}
					return nil
				},
				Set:          map[store.Key][]byte{otp: []byte("123456"), cart: []byte("[]")},
				Expires:      map[store.Key]time.Time{otp: clock.Now().Add(time.Minute)},
				SetPrincipal: true, Principal: "vera",
			})
		}
		if _, found, err := s.Load(ctx, tokens[0]); err != nil || !found {
			t.Fatalf("Load of a legacy ID: found=%v, %v", found, err)
		}
		if err := s.Delete(ctx, tokens[2]); err != nil {
			t.Fatal(err)
		}
		if _, found, _ := s.Load(ctx, tokens[2]); found {
			t.Errorf("legacy ID after Delete: still found")
		}
		tokens = tokens[:2]
		before, found, _ := s.Load(ctx, tokens[0])
		if !found {
			t.Fatal("legacy session gone")
		}

		res, err := admin.New(s).Rekey(ctx)
		if err != nil || res.Rekeyed != len(tokens) {
			t.Fatalf("Rekey: got %+v, %v, want %d moved", res, err, len(tokens))
		}
		var want []string
		for _, token := range tokens {
			if _, found, _ := s.Load(ctx, token); found {
				t.Errorf("legacy ID %q still found after Rekey", token)
			}
			id := store.HashToken(token)
			want = append(want, id)
			rec, found, err := s.Load(ctx, id)
			if err != nil || !found {
				t.Fatalf("Load(%q) after Rekey: found=%v, %v", id, found, err)
			}
			if string(rec.Values[otp]) != "123456" || string(rec.Values[cart]) != "[]" || rec.Meta.Principal != "vera" ||
				rec.Meta.Tabs[1].Label != "till" || !rec.Meta.Expiring[otp].Equal(before.Meta.Expiring[otp]) {
				t.Errorf("session after Rekey: got %+v, want the legacy one's values, tab, principal and deadline", rec)
			}
		}
		var listed []string
		if err := s.List(ctx, func(id string, _ store.Meta) bool { listed = append(listed, id); return true }); err != nil {
			t.Fatal(err)
		}
		refs, err := s.SessionsOf(ctx, "vera")
		if err != nil {
			t.Fatal(err)
		}
		var of []string
		for _, r := range refs {
			of = append(of, r.ID)
		}
		if !sameStrings(listed, want) || !sameStrings(of, want) {
			t.Errorf("after Rekey: List %q, SessionsOf %q, want %q", listed, of, slices.Sorted(slices.Values(want)))
		}
	})
}
