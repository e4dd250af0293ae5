package main

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFiles embed.FS

// layoutFile holds the page frame every page template fills in, and
// partsFile the pieces pages and fragments share (the cart panel, the
// flashes, the header's parts).
const (
	layoutFile = "templates/layout.html"
	partsFile  = "templates/parts.html"
)

// pages holds one parsed template set per page, each page together with
// the layout, so pages can define the same blocks.
type pages struct {
	byName map[string]*template.Template
}

var templateFuncs = template.FuncMap{
	"money":    formatCents,
	"clock":    func(t time.Time) string { return t.Local().Format("15:04") },
	"datetime": func(t time.Time) string { return t.Local().Format("2 Jan 2006, 15:04") },
	"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"initials": initials,
	"plural":   plural,
}

// plural says "1 item", "2 items".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// loadPages parses every page with the layout and the shared parts.
// Asset URLs come from assets, so a page always names the current
// version of app.css or pos.js.
func loadPages(assets *assets) (*pages, error) {
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	funcs := template.FuncMap{"asset": assets.url}
	for k, v := range templateFuncs {
		funcs[k] = v
	}
	p := &pages{byName: make(map[string]*template.Template)}
	for _, file := range names {
		if file == layoutFile || file == partsFile {
			continue
		}
		t, err := template.New(path.Base(layoutFile)).Funcs(funcs).ParseFS(templateFiles, layoutFile, partsFile, file)
		if err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		p.byName[strings.TrimSuffix(path.Base(file), ".html")] = t
	}
	return p, nil
}

// render executes a page into a buffer first, so a template error becomes
// a clean 500 rather than half a page.
func (p *pages) render(w http.ResponseWriter, status int, name string, data any) error {
	return p.execute(w, status, name, "", data)
}

// renderFragment executes the template named fragment of page name: a
// piece of a page, for htmx to swap in.
func (p *pages) renderFragment(w http.ResponseWriter, status int, name, fragment string, data any) error {
	return p.execute(w, status, name, fragment, data)
}

func (p *pages) execute(w http.ResponseWriter, status int, name, fragment string, data any) error {
	t, ok := p.byName[name]
	if !ok {
		return fmt.Errorf("templates: no page %q", name)
	}
	var buf bytes.Buffer
	var err error
	if fragment == "" {
		err = t.Execute(&buf, data)
	} else {
		err = t.ExecuteTemplate(&buf, fragment, data)
	}
	if err != nil {
		return fmt.Errorf("templates: rendering %s %s: %w", name, fragment, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err = w.Write(buf.Bytes())
	return err
}

// writeJSON answers v as JSON, never cached.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err = w.Write(append(b, '\n'))
	return err
}

// formatCents shows an amount of cents as dollars: 123456 → "$1,234.56".
func formatCents(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	whole := strconv.FormatInt(cents/100, 10)
	var grouped strings.Builder
	for i, d := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			grouped.WriteByte(',')
		}
		grouped.WriteRune(d)
	}
	return fmt.Sprintf("%s$%s.%02d", sign, grouped.String(), cents%100)
}

// initials makes the badge on a product card: "Flat White" → "FW".
func initials(name string) string {
	var b strings.Builder
	for _, word := range strings.Fields(name) {
		if b.Len() >= 2 {
			break
		}
		for _, r := range word {
			if r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' {
				b.WriteString(strings.ToUpper(string(r)))
			}
			break
		}
	}
	return b.String()
}

// errorPage is the data of the error template. Its frame is bare: the
// session may be what failed.
type errorPage struct {
	frame
	Status  int
	Message string
	// Reload, when set, is a link that shows the page afresh, for an
	// answer that reloading mends.
	Reload string
}

func (a *app) renderError(w http.ResponseWriter, page errorPage) error {
	page.frame = frame{Title: http.StatusText(page.Status), Nav: "error"}
	return a.pages.render(w, page.Status, "error", page)
}
