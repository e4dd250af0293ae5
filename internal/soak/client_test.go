package soak

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/tabkit/tabkit/internal/demoproc"
)

// requestTimeout bounds every request, so a wedged demo fails a test
// instead of hanging it.
const requestTimeout = 15 * time.Second

// maxBody bounds what a test reads of one response.
const maxBody = 1 << 20

// newBrowser returns a browser with an empty cookie jar for the demo at
// base, sharing the transport tr.
func newBrowser(t *testing.T, tr *http.Transport, base string) *demoproc.Browser {
	t.Helper()
	return demoproc.NewBrowser(t, base, tr, requestTimeout)
}

// isAck reports whether a is the demo's acknowledgement of an add to tab:
// a 303 back to that register. An add refused for want of a cashier is
// sent elsewhere, but one refused by the cart's own limits comes back to
// the register too, with an error flash: callers keep their adds within
// those limits.
func isAck(a demoproc.Answer, tab int) bool {
	return a.Status == http.StatusSeeOther && a.Location() == demoproc.TabPath(tab, "/")
}

// cart is a cart as GET /{n}/cart.json shows it: quantity by SKU.
type cart map[string]int

func (c cart) String() string { return fmt.Sprint(map[string]int(c)) }

// skus are products of the demo's catalogue.
var skus = []string{
	"COF-001", "COF-002", "COF-003", "TEA-001", "TEA-002", "TEA-003",
	"BAK-001", "BAK-002", "SAN-001", "SAN-002", "SNK-001", "DRK-001",
}

// catalogSKUs are all 48 products of the demo's catalogue.
var catalogSKUs = func() []string {
	var all []string
	for _, category := range []string{"COF", "TEA", "BAK", "SAN", "SNK", "DRK"} {
		for i := 1; i <= 8; i++ {
			all = append(all, fmt.Sprintf("%s-%03d", category, i))
		}
	}
	return all
}()
