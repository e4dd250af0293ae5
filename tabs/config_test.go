package tabs

import (
	"bytes"
	"strings"
	"testing"
)

func TestNewDefaults(t *testing.T) {
	r := newTestRewriter(t, Config{})
	if r.maxID != DefaultMaxID {
		t.Errorf("maxID: got %v, want %v", r.maxID, DefaultMaxID)
	}
	if r.maxTagBytes != DefaultConfig.MaxTagBytes {
		t.Errorf("maxTagBytes: got %v, want %v", r.maxTagBytes, DefaultConfig.MaxTagBytes)
	}
	if !r.IsExempt("/static/app.css") {
		t.Errorf("IsExempt(/static/app.css): got false, want the default exemption")
	}
	empty := newTestRewriter(t, Config{Exempt: []string{}})
	if empty.IsExempt("/static/app.css") {
		t.Errorf("IsExempt(/static/app.css) with Exempt: []string{}: got true, want false")
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"relative exempt", Config{Exempt: []string{"static/"}}},
		{"empty exempt", Config{Exempt: []string{""}}},
		{"negative MaxTagBytes", Config{MaxTagBytes: -1}},
		{"huge MaxTagBytes", Config{MaxTagBytes: 1<<30 + 1}},
		{"too many attributes", Config{Attrs: make([]string, 1<<12+1)}},
		{"empty attribute", Config{Attrs: []string{""}}},
		{"attribute with space", Config{Attrs: []string{"hx get"}}},
		{"attribute with slash", Config{Attrs: []string{"a/b"}}},
		{"attribute with equals", Config{Attrs: []string{"a=b"}}},
		{"srcset has its own rule", Config{Attrs: []string{"SRCSET"}}},
		{"content has its own rule", Config{Attrs: []string{"content"}}},
		{"too long attribute", Config{Attrs: []string{string(bytes.Repeat([]byte("a"), 64))}}},
		{"hx- attribute too long for data-", Config{Attrs: []string{"hx-" + string(bytes.Repeat([]byte("a"), 56))}}},
	}
	for _, tt := range tests {
		if _, err := New(tt.cfg); err == nil {
			t.Errorf("%s: New(%+v): got nil error, want one", tt.name, tt.cfg)
		}
	}
}

func TestNewAttrs(t *testing.T) {
	r := newTestRewriter(t, Config{Attrs: []string{"HREF", "hx-get", "Data-URL", "=odd", "data-hx-put",
		"hx-post", "Data-Hx-Post", "hx-" + string(bytes.Repeat([]byte("a"), 55))}})
	tests := []struct {
		in, want string
	}{
		{`<a href=/x>`, `<a href=/1/x>`},
		{`<a HX-GET=/x>`, `<a HX-GET=/1/x>`},
		{`<a data-url=/x>`, `<a data-url=/1/x>`},
		{`<a hx-delete=/x>`, `<a hx-delete=/x>`},
		{`<a data-hx-get=/x>`, `<a data-hx-get=/1/x>`},
		{`<a hx-put=/x>`, `<a hx-put=/1/x>`},
		{`<a data-hx-put=/x>`, `<a data-hx-put=/1/x>`},
		{`<a hx-post=/x data-hx-post=/y>`, `<a hx-post=/1/x data-hx-post=/1/y>`},
		{`<a data-hx-` + strings.Repeat("a", 55) + `=/x>`, `<a data-hx-` + strings.Repeat("a", 55) + `=/1/x>`},
		{`<a data-data-url=/x>`, `<a data-data-url=/x>`},
	}
	for _, tt := range tests {
		if got := string(rewrite(t, r, 1, []byte(tt.in))); got != tt.want {
			t.Errorf("rewrite(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRewriterConcurrentUse(t *testing.T) {
	r := newTestRewriter(t, benchConfig)
	page := benchPage()
	want := rewrite(t, r, 3, page)
	done := make(chan []byte)
	for range 4 {
		go func() {
			var out bytes.Buffer
			w := r.NewWriter(&out, 3)
			w.Write(page)
			w.Close()
			done <- out.Bytes()
		}()
	}
	for range 4 {
		if got := <-done; !bytes.Equal(got, want) {
			t.Errorf("concurrent rewrite differs from a sequential one")
		}
	}
}
