package main

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

//go:embed templates/*.html
var templateFiles embed.FS

// layoutFile holds the page frame every page template fills in.
const layoutFile = "templates/layout.html"

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
}

func loadPages() (*pages, error) {
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{byName: make(map[string]*template.Template)}
	for _, file := range names {
		if file == layoutFile {
			continue
		}
		t, err := template.New(path.Base(layoutFile)).Funcs(templateFuncs).ParseFS(templateFiles, layoutFile, file)
		if err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		p.byName[strings.TrimSuffix(path.Base(file), ".html")] = t
	}
	return p, nil
}

// render executes a page into a buffer first, so a template error becomes
// a clean 500 rather than half a page.
func (p *pages) render(c echo.Context, status int, name string, data any) error {
	return p.write(c.Response(), status, name, data)
}

// write renders page name to w with status.
func (p *pages) write(w http.ResponseWriter, status int, name string, data any) error {
	t, ok := p.byName[name]
	if !ok {
		return fmt.Errorf("templates: no page %q", name)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return fmt.Errorf("templates: rendering %s: %w", name, err)
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
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
}

func (a *app) renderError(c echo.Context, status int, message string) error {
	page := errorPage{frame: frame{Title: http.StatusText(status), Nav: "error"}, Status: status, Message: message}
	return a.pages.render(c, status, "error", page)
}
