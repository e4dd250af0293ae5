package main

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/tabkit/tabkit/kit"
)

// The register page works as plain HTML forms, each answered with a
// redirect back to the page (post, redirect, get). With JavaScript, htmx
// sends the same forms with HX-Request, and the answer to a cart change
// is the cart panel and the header's parts instead, swapped in place:
// no reload, no scroll jump. Navigation (links, checkout) is boosted:
// htmx fetches the next page and swaps its body, and the kit keeps every
// URL in the tab.

// inPlace reports whether r is an htmx request that swaps part of the
// page. A boosted request wants a whole page, as a plain one does.
func inPlace(r *http.Request) bool {
	return r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-Boosted") != "true"
}

// noteKey is where a request keeps the message of an in-place change.
const noteKey = "pos.note"

// announce says what a change did: a plain form's message is flashed for
// the page the redirect leads to; an in-place change shows it in its
// answer, so nothing is stored. Call it before the change's Update, so
// the flash and the change land in one commit.
func announce(c *kit.Context, note flashMessage) error {
	if inPlace(c.Request()) {
		c.Set(noteKey, note)
		return nil
	}
	return c.Session().Tab().Flash(flashKey, note)
}

// afterCartChange updates the registers summary and answers: the cart in
// place for htmx, else a redirect back to the register.
func (a *app) afterCartChange(c *kit.Context, cart Cart) error {
	a.saveSummaryBestEffort(c, cart)
	if inPlace(c.Request()) {
		note, _ := c.Get(noteKey).(flashMessage)
		return a.renderCartUpdate(c, cart, note)
	}
	return c.Redirect(http.StatusSeeOther, "/")
}

// backWithError refuses a form with a message on the register page.
// Nothing changed, so a plain form gets the same redirect, and htmx the
// cart as it is.
func (a *app) backWithError(c *kit.Context, message string) error {
	note := flashMessage{Kind: "error", Text: message}
	if inPlace(c.Request()) {
		cart, err := loadCart(c)
		if err != nil {
			return err
		}
		return a.renderCartUpdate(c, cart, note)
	}
	if err := flashError(c, message); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/")
}

// renderCartUpdate answers an in-place change: the cart panel, the
// header's parts out of band, and note as a toast.
func (a *app) renderCartUpdate(c *kit.Context, cart Cart, note flashMessage) error {
	view, err := a.registerView(c, cart)
	if err != nil {
		return err
	}
	view.OOB = true
	// Flashes left for this tab (the kit's, say) join the toast, and the
	// page's own flash area, from the last full load, is emptied.
	view.Toasts, view.Flashes = view.Flashes, nil
	if note.Text != "" {
		view.Toasts = append(view.Toasts, note)
	}
	return a.pages.renderFragment(c.Response(), http.StatusOK, "register", "cart-update", view)
}

// inFlight tracks checkouts between taking the cart and recording the
// sale, so a duplicate of one (a double click) can wait for the sale
// rather than find no receipt yet. It knows this process only; a
// duplicate that reaches another process finds the sale once recorded.
type inFlight struct {
	// mu guards pending.
	mu      sync.Mutex
	pending map[string]chan struct{}
}

func newInFlight() *inFlight { return &inFlight{pending: make(map[string]chan struct{})} }

// start marks sale as being recorded until the returned done is called.
func (f *inFlight) start(sale string) (done func()) {
	ch := make(chan struct{})
	f.mu.Lock()
	f.pending[sale] = ch
	f.mu.Unlock()
	return func() {
		f.mu.Lock()
		delete(f.pending, sale)
		f.mu.Unlock()
		close(ch)
	}
}

// maxDuplicateWait bounds how long a duplicate checkout waits for the
// first one's sale.
const maxDuplicateWait = 10 * time.Second

// wait returns once sale is no longer being recorded, or ctx ends.
func (f *inFlight) wait(ctx context.Context, sale string) {
	f.mu.Lock()
	ch, ok := f.pending[sale]
	f.mu.Unlock()
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, maxDuplicateWait)
	defer cancel()
	select {
	case <-ch:
	case <-ctx.Done():
	}
}
