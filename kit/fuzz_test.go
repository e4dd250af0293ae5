package kit

import (
	"github.com/tabkit/tabkit/internal/session"
	"strings"
	"testing"
	"time"
)

// FuzzCookieDecode feeds arbitrary cookie values to both cookie modes: a
// value is either rejected or yields an ID of the shape newID makes, and
// nothing panics. (That forgeries fail is TestBadCookiesAreIgnored's job:
// fuzz workers are separate processes, so a signed seed made here cannot
// be compared across them.)
func FuzzCookieDecode(f *testing.F) {
	signed := newCookieCodec([][]byte{[]byte(strings.Repeat("k", 32))}, time.Hour)
	good, err := signed.encode("tabkit", session.NewToken())
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{"", session.NewToken(), good, good[:20], strings.Repeat("A", 300), "a|b|c", "%00", "MTIz"} {
		f.Add(seed)
	}
	plain := newCookieCodec(nil, time.Hour)
	f.Fuzz(func(t *testing.T, value string) {
		if id, err := plain.decode("tabkit", value); err == nil {
			if !session.ValidToken(id) || id != value {
				t.Errorf("plain decode of %q gave %q", value, id)
			}
		}
		if id, err := signed.decode("tabkit", value); err == nil {
			if !session.ValidToken(id) {
				t.Errorf("signed decode of %q gave malformed ID %q", value, id)
			}
		}
	})
}
