package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/tabkit/tabkit/admin"
)

// output prints results as text for people or, with -json, as JSON. The
// first write error sticks in err.
type output struct {
	w    io.Writer
	json bool
	err  error
}

func (o *output) printf(format string, args ...any) {
	if o.err == nil {
		_, o.err = fmt.Fprintf(o.w, format, args...)
	}
}

func (o *output) writeJSON(v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		o.err = err
		return
	}
	o.printf("%s\n", b)
}

// timeFormat prints times in UTC to the second, which sorts as text.
const timeFormat = "2006-01-02 15:04:05Z"

func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(timeFormat)
}

func (o *output) sessions(list []admin.Session) {
	o.sessionTable(list, count(len(list), "session"))
}

func (o *output) sessionsOf(principal string, list []admin.Session) {
	o.sessionTable(list, count(len(list), "session")+" of "+keyText(principal))
}

func (o *output) sessionTable(list []admin.Session, footer string) {
	if o.json {
		if list == nil {
			list = []admin.Session{}
		}
		o.writeJSON(list)
		return
	}
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPRINCIPAL\tCREATED\tLAST SEEN\tEXPIRES\tTABS\tBYTES")
	tokenKeyed := 0
	for _, s := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\n", s.ID, principalText(s.Principal), when(s.Created), when(s.LastSeen), when(s.Expires), s.Tabs, s.Bytes)
		if s.KeyedByToken {
			tokenKeyed++
		}
	}
	_ = tw.Flush()
	o.printf("%s%s\n", buf.String(), footer)
	if tokenKeyed > 0 {
		o.printf("%s stored under the cookie token, out of kit's reach: run tabkit migrate\n", count(tokenKeyed, "session"))
	}
}

// principalText shows a principal, or "-" for none.
func principalText(p string) string {
	if p == "" {
		return "-"
	}
	return keyText(p)
}

// handleText shows a session's whole ID when it may be shown.
func handleText(s *admin.Session) string {
	switch {
	case s.Handle != "":
		return s.Handle
	case s.KeyedByToken:
		return "not shown: stored under its cookie token (tabkit migrate moves it)"
	default:
		return "-"
	}
}

func (o *output) detail(d *admin.Detail) {
	if o.json {
		o.writeJSON(d)
		return
	}
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "session\t%s\n", d.ID)
	fmt.Fprintf(tw, "handle\t%s\n", handleText(&d.Session))
	fmt.Fprintf(tw, "principal\t%s\n", principalText(d.Principal))
	fmt.Fprintf(tw, "created\t%s\n", when(d.Created))
	fmt.Fprintf(tw, "last seen\t%s\n", when(d.LastSeen))
	fmt.Fprintf(tw, "idle deadline\t%s\n", when(d.IdleDeadline))
	fmt.Fprintf(tw, "absolute deadline\t%s\n", when(d.AbsDeadline))
	fmt.Fprintf(tw, "bytes\t%d\n", d.Bytes)
	fmt.Fprintf(tw, "version\t%d\n", d.Version)
	fmt.Fprintf(tw, "next tab\t%d\n", d.NextTab)
	_ = tw.Flush()
	o.printf("%s", buf.String())

	o.printf("\ntabs (%d open)\n", d.Tabs)
	buf.Reset()
	tw = tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  TAB\tLABEL\tCREATED\tLAST SEEN\tBYTES")
	for _, t := range d.TabTable {
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%d\n", t.N, keyText(t.Label), when(t.Created), when(t.LastSeen), t.Bytes)
	}
	_ = tw.Flush()
	o.printf("%s", buf.String())

	o.printf("\nvalues (%d)\n", len(d.Values))
	for _, v := range d.Values {
		ns := "session"
		if v.Tab != nil {
			ns = "tab " + strconv.FormatUint(uint64(*v.Tab), 10)
		}
		kind := ""
		if v.Flash {
			kind = "flash list, "
		}
		expires := ""
		if !v.Expires.IsZero() {
			expires = ", expires " + when(v.Expires)
		}
		o.printf("  [%s] %s (%s%d bytes%s)\n", ns, keyText(v.Key), kind, v.Bytes, expires)
		switch {
		case v.JSON != nil:
			o.printf("%s\n", indent(prettyJSON(v.JSON), "    "))
		case v.Flashes != nil:
			for _, item := range v.Flashes {
				o.printf("    - %s\n", indent(prettyJSON(item), "      ")[6:])
			}
		default:
			o.printf("    %s (not JSON)\n", strconv.Quote(string(v.Raw)))
		}
	}
}

// keyText shows a key name or label as it is when it is plainly
// printable, and Go-quoted otherwise (flash keys start with a NUL byte).
func keyText(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) || r == '"' {
			return strconv.Quote(s)
		}
	}
	return s
}

func prettyJSON(raw json.RawMessage) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return string(raw)
	}
	return buf.String()
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

func (o *output) stats(st *admin.Stats) {
	if o.json {
		o.writeJSON(st)
		return
	}
	tabs := strconv.FormatInt(st.Tabs, 10)
	if st.Tabs < 0 {
		tabs = "unknown (the store cannot list sessions)"
	}
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "sessions\t%d\n", st.Sessions)
	fmt.Fprintf(tw, "expired pending\t%d\n", st.Expired)
	fmt.Fprintf(tw, "tabs\t%s\n", tabs)
	fmt.Fprintf(tw, "bytes\t%d\t(key names and values)\n", st.Bytes)
	if st.FileBytes > 0 {
		fmt.Fprintf(tw, "file bytes\t%d\n", st.FileBytes)
	}
	_ = tw.Flush()
	o.printf("%s", buf.String())
}

func (o *output) swept(res admin.SweepResult) {
	if o.json {
		o.writeJSON(res)
		return
	}
	o.printf("removed %s (%d bytes)\n", count(res.Sessions, "expired session"), res.Bytes)
}

func (o *output) deleted(s admin.Session) {
	if o.json {
		o.writeJSON(s)
		return
	}
	o.printf("deleted session %s (%d bytes, %s)\n", s.ID, s.Bytes, count(s.Tabs, "tab"))
}

func (o *output) cleared(n int) {
	if o.json {
		o.writeJSON(map[string]int{"deleted": n})
		return
	}
	o.printf("deleted %s\n", count(n, "session"))
}

func (o *output) ended(principal string, n int) {
	if o.json {
		o.writeJSON(struct {
			Principal string `json:"principal"`
			Ended     int    `json:"ended"`
		}{principal, n})
		return
	}
	o.printf("ended %s of %s\n", count(n, "session"), keyText(principal))
}

// rekeyed reports migrate on a store other than a file.
func (o *output) rekeyed(res admin.RekeyResult) {
	if o.json {
		o.writeJSON(res)
		return
	}
	o.printf("%s\n", movedText(res.Rekeyed))
}

func movedText(n int) string {
	switch n {
	case 0:
		return "no session was stored under its cookie token"
	case 1:
		return "moved 1 session from its cookie token to its hash"
	}
	return "moved " + count(n, "session") + " from their cookie tokens to their hashes"
}

// fileMigration is what migrate reports on a bbolt file.
type fileMigration struct {
	// FormatBefore and FormatAfter are the file's layout version before
	// boltstore opened it and after tabkit closed it.
	FormatBefore int `json:"format_before"`
	FormatAfter  int `json:"format_after"`
	// TokenKeyed counts the live sessions stored under their cookie
	// token before; -1 when the file's format is not one tabkit reads.
	TokenKeyed int `json:"token_keyed"`
	// RekeyedOnOpen counts the sessions boltstore moved to their hashes
	// when it opened the file; -1 when unknown.
	RekeyedOnOpen int `json:"rekeyed_on_open"`
	// Rekeyed counts the sessions tabkit moved afterwards (admin.Rekey).
	Rekeyed int `json:"rekeyed"`
	// Swept and Compacted say what tabkit removed and how the file's
	// size changed when it rewrote the file without the old keys;
	// absent when there were none.
	Swept     *admin.SweepResult   `json:"swept,omitempty"`
	Compacted *admin.CompactResult `json:"compacted,omitempty"`
}

func newFileMigration(after fileState, c *call) fileMigration {
	m := fileMigration{
		FormatBefore: c.before.Format, FormatAfter: after.Format,
		TokenKeyed: c.before.TokenKeyed, RekeyedOnOpen: -1, Rekeyed: c.rekeyed.Rekeyed,
		Swept: c.swept, Compacted: c.compacted,
	}
	if c.before.TokenKeyed >= 0 {
		// The file was ours alone while open, so what tabkit found to
		// move is what boltstore left.
		m.RekeyedOnOpen = max(c.before.TokenKeyed-c.rekeyed.Rekeyed, 0)
	}
	return m
}

func (o *output) migrated(path string, after fileState, c *call) {
	m := newFileMigration(after, c)
	if o.json {
		o.writeJSON(m)
		return
	}
	o.printf("%s: format %d before, format %d after\n", path, m.FormatBefore, m.FormatAfter)
	switch {
	case m.RekeyedOnOpen > 0:
		o.printf("boltstore %s when it opened the file\n", movedText(m.RekeyedOnOpen))
		if m.Rekeyed > 0 {
			o.printf("tabkit %s\n", movedText(m.Rekeyed))
		}
	default:
		o.printf("%s\n", movedText(m.Rekeyed))
	}
	if m.Swept != nil {
		o.printf("removed %s (%d bytes)\n", count(m.Swept.Sessions, "expired session"), m.Swept.Bytes)
	}
	if m.Compacted != nil {
		o.printf("rewrote the file without the old keys: %d bytes before, %d after\n", m.Compacted.Before, m.Compacted.After)
	}
}

func (o *output) compacted(res admin.CompactResult) {
	if o.json {
		o.writeJSON(res)
		return
	}
	o.printf("compacted: %d bytes before, %d after\n", res.Before, res.After)
}

func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
