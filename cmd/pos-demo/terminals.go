package main

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tabkit/tabkit/kit"
)

// A cashier signed in on several terminals (other browsers: each has a
// session of its own, under the cashier's name as the principal) sees
// them on the registers page and can sign them all out.

// terminalRow is one other terminal on the registers page. It shows no
// handle and never a token.
type terminalRow struct {
	// Since says when it signed in: "at 14:05" today, else "on 2 Dec
	// at 14:05".
	Since    string
	LastSeen time.Time
	// Seen says how long ago it was last seen ("3 min ago").
	Seen      string
	Registers int
}

// terminalsView is the data of the registers page's terminals section,
// on its own for an in-place answer.
type terminalsView struct {
	Cashier   string
	CSRF      string
	Terminals []terminalRow
	// Known is false when the store keeps no index of principals: the
	// section is then left out.
	Known bool
	// Notes says what "Sign out everywhere else" did, in place.
	Notes []flashMessage
}

// otherTerminals lists the other live sessions of this session's
// cashier, most recently seen first.
func (a *app) otherTerminals(c *kit.Context) ([]terminalRow, bool, error) {
	others, err := c.Session().OtherSessions()
	if errors.Is(err, kit.ErrNoPrincipalIndex) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	now := a.now()
	rows := make([]terminalRow, 0, len(others))
	for _, o := range others {
		rows = append(rows, terminalRow{Since: since(now, o.Created), LastSeen: o.LastSeen, Seen: ago(now, o.LastSeen), Registers: o.Tabs})
	}
	return rows, true, nil
}

// since says when t was, in the server's zone, as briefly as now allows:
// "at 14:05" the same day, else "on 2 Dec at 14:05" (a session lives
// a week at most).
func since(now, t time.Time) string {
	now, t = now.Local(), t.Local()
	if y, m, d := now.Date(); t.Year() == y && t.Month() == m && t.Day() == d {
		return t.Format("at 15:04")
	}
	return t.Format("on 2 Jan at 15:04")
}

// ago says how long before now t was, roughly, as a till would: "just
// now", "5 min ago", "3 h ago", "2 days ago".
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	}
	return plural(int(d/(24*time.Hour)), "day", "days") + " ago"
}

// signOutOthers is POST /{n}/terminals/sign-out: "Sign out everywhere
// else" ends every other session of this cashier. Each of those
// terminals finds itself on the sign-in page at its next request, told
// who signed it out and when. With htmx the terminals section is
// answered in place; a plain form is redirected to the registers page.
func (a *app) signOutOthers(c *kit.Context) error {
	s := c.Session()
	who, _, err := currentCashier(s)
	if err != nil {
		return err
	}
	p, err := s.Principal()
	if err != nil {
		return err
	}
	done := a.endings.endingOthers(p, signOut{Kind: endedElsewhere, By: who.Name, At: a.now()})
	ended, err := s.EndOtherSessions()
	done()
	if err != nil {
		return err
	}
	a.log.Info("cashier signed out their other terminals", "cashier", who.Name, "ended", ended)
	note := flashMessage{Kind: "ok", Text: fmt.Sprintf("Signed out %s.", plural(ended, "other terminal", "other terminals"))}
	if ended == 0 {
		note = flashMessage{Kind: "info", Text: fmt.Sprintf("No other terminal was signed in as %s.", who.Name)}
	}
	if !inPlace(c.Request()) {
		if err := c.Session().Tab().Flash(flashKey, note); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/registers")
	}
	view, err := a.terminalsView(c, who.Name)
	if err != nil {
		return err
	}
	view.Notes = []flashMessage{note}
	return a.pages.renderFragment(c.Response(), http.StatusOK, "registers", "terminals", view)
}

func (a *app) terminalsView(c *kit.Context, cashier string) (terminalsView, error) {
	csrf, err := sessionToken(c.Session())
	if err != nil {
		return terminalsView{}, err
	}
	rows, known, err := a.otherTerminals(c)
	if err != nil {
		return terminalsView{}, err
	}
	return terminalsView{Cashier: cashier, CSRF: csrf, Terminals: rows, Known: known}, nil
}
