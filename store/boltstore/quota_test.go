package boltstore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tabkit/tabkit/store"
)

func TestMaxSessionsRefuse(t *testing.T) {
	s, _ := openTest(t, &Options{MaxSessions: 2})
	create(t, s, "a", nil)
	create(t, s, "b", nil)
	ctx := context.Background()

	if _, err := s.Commit(ctx, "c", store.Delta{Create: true}); !errors.Is(err, store.ErrFull) {
		t.Fatalf("creating a third session: got %v, want ErrFull", err)
	}
	if got := load(t, s, "c"); got != nil {
		t.Errorf("refused session: got %v, want absent", got)
	}
	// Existing sessions keep working, growing included.
	if _, err := s.Commit(ctx, "a", setDelta(store.SessionKey("cart"), strings.Repeat("x", 100))); err != nil {
		t.Errorf("commit to an existing session of a full store: got %v, want nil", err)
	}
	if err := s.Delete(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(ctx, "c", store.Delta{Create: true}); err != nil {
		t.Errorf("creating a session once there is room: got %v, want nil", err)
	}
}

func TestMaxSessionsEvictLRU(t *testing.T) {
	s, clock := openTest(t, &Options{MaxSessions: 2, WhenFull: EvictLRU})
	ctx := context.Background()
	create(t, s, "a", map[string]string{"k": "a"})
	clock.Advance(time.Minute)
	create(t, s, "b", map[string]string{"k": "b"})
	clock.Advance(time.Minute)
	// a is seen again, so b is now the least recently seen.
	if _, err := s.Commit(ctx, "a", store.Delta{LastSeen: clock.Now()}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)

	if _, err := s.Commit(ctx, "c", store.Delta{Create: true}); err != nil {
		t.Fatalf("creating a third session: got %v, want nil", err)
	}
	tests := []struct {
		id   string
		want bool
	}{{"a", true}, {"b", false}, {"c", true}}
	for _, tt := range tests {
		if got := load(t, s, tt.id) != nil; got != tt.want {
			t.Errorf("%s present: got %v, want %v", tt.id, got, tt.want)
		}
	}
	st, err := s.Stats(ctx)
	if err != nil || st.Sessions != 2 {
		t.Errorf("Stats: got %+v, %v, want 2 sessions", st, err)
	}
}

func TestMaxBytes(t *testing.T) {
	// Sizes count key names and values: "v" + n bytes.
	value := func(n int) map[string]string { return map[string]string{"v": strings.Repeat("x", n-1)} }
	tests := []struct {
		name     string
		policy   FullPolicy
		steps    []quotaStep
		wantLeft []string
	}{
		{"refuse", Refuse, []quotaStep{
			{"a", value(60), nil},
			{"b", value(50), store.ErrFull},
			{"b", value(30), nil},
			{"a", value(71), store.ErrFull}, // 101 in all
			{"a", value(70), nil},           // exactly 100
			{"a", value(10), nil},           // shrinking always works
		}, []string{"a", "b"}},
		{"evict", EvictLRU, []quotaStep{
			{"a", value(60), nil},
			{"b", value(30), nil},
			{"c", value(50), nil},            // a goes
			{"d", value(101), store.ErrFull}, // could never fit
			{"b", value(50), nil},            // fits beside c
			{"c", value(70), nil},            // c is the least recently seen, but b goes
		}, []string{"c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clock := openTest(t, &Options{MaxBytes: 100, WhenFull: tt.policy})
			for i, step := range tt.steps {
				clock.Advance(time.Second)
				d := store.Delta{Create: load(t, s, step.id) == nil, LastSeen: clock.Now(), Set: map[store.Key][]byte{}}
				for k, v := range step.values {
					d.Set[store.SessionKey(k)] = []byte(v)
				}
				if _, err := s.Commit(context.Background(), step.id, d); !errors.Is(err, step.wantErr) {
					t.Fatalf("step %d (%s): got %v, want %v", i, step.id, err, step.wantErr)
				}
			}
			var left []string
			err := s.List(context.Background(), func(id string, _ store.Meta) bool {
				left = append(left, id)
				return true
			})
			if err != nil || strings.Join(left, ",") != strings.Join(tt.wantLeft, ",") {
				t.Errorf("sessions left: got %v, %v, want %v", left, err, tt.wantLeft)
			}
		})
	}
}

type quotaStep struct {
	id      string
	values  map[string]string
	wantErr error
}

func TestMaxSessionBytes(t *testing.T) {
	tests := []struct {
		name       string
		storeLimit int64
		deltaLimit int64
		size       int
		wantErr    error
	}{
		{"store limit alone, within", 50, 0, 50, nil},
		{"store limit alone, beyond", 50, 0, 51, store.ErrTooLarge},
		{"store limit smaller", 50, 100, 51, store.ErrTooLarge},
		{"delta limit smaller", 100, 50, 51, store.ErrTooLarge},
		{"delta limit smaller, within", 100, 50, 50, nil},
		{"delta limit alone", 0, 50, 51, store.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := openTest(t, &Options{MaxSessionBytes: tt.storeLimit})
			create(t, s, "a", nil)
			d := setDelta(store.SessionKey("v"), strings.Repeat("x", tt.size-1))
			d.MaxBytes = tt.deltaLimit
			if _, err := s.Commit(context.Background(), "a", d); !errors.Is(err, tt.wantErr) {
				t.Errorf("Commit of %d bytes: got %v, want %v", tt.size, err, tt.wantErr)
			}
		})
	}
}

func TestQuotaReclaimsExpired(t *testing.T) {
	for _, policy := range []FullPolicy{Refuse, EvictLRU} {
		t.Run(policy.String(), func(t *testing.T) {
			s, clock := openTest(t, &Options{MaxSessions: 2, MaxBytes: 100, WhenFull: policy})
			create(t, s, "a", map[string]string{"k": strings.Repeat("x", 40)})
			create(t, s, "b", map[string]string{"k": strings.Repeat("x", 40)})
			clock.Advance(2 * time.Hour)
			create(t, s, "c", map[string]string{"k": strings.Repeat("x", 90)})
			st, err := s.Stats(context.Background())
			if err != nil || st.Sessions != 1 || st.Expired != 0 {
				t.Errorf("Stats: got %+v, %v, want the expired sessions gone", st, err)
			}
		})
	}
}
