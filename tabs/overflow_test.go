package tabs

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestMaxTagBytes(t *testing.T) {
	var log bytes.Buffer
	r := newTestRewriter(t, Config{
		MaxTagBytes: 32,
		Logger:      slog.New(slog.NewTextHandler(&log, nil)),
	})
	long := `<div title="` + strings.Repeat("x", 40) + `">`
	exact := `<a href="/b" title="` + strings.Repeat("y", 10) + `">` // 32 bytes
	if len(exact) != 32 {
		t.Fatalf("exact tag is %d bytes, want 32", len(exact))
	}
	in := []byte(`<a href=/a>` + exact + `<p>text</p>` + long + `<a href=/c>` + `<a href="/d`)
	want := `<a href=/3/a>` + strings.Replace(exact, "/b", "/3/b", 1) + `<p>text</p>` + long + `<a href=/c>` + `<a href="/d`

	for _, chunks := range [][][]byte{{in}, splitEvery(in, 1), splitEvery(in, 5), splitEvery(in, 33)} {
		log.Reset()
		var out bytes.Buffer
		w := r.NewWriter(&out, 3)
		for _, c := range chunks {
			if _, err := w.Write(c); err != nil {
				t.Fatal(err)
			}
			if n := len(w.buf.carry); n > 32+16 {
				t.Errorf("writes of %d bytes: carried %d bytes, want at most MaxTagBytes and a lookahead", len(chunks[0]), n)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if got := out.String(); got != want {
			t.Errorf("writes of %d bytes: got %q, want %q", len(chunks[0]), got, want)
		}
		if got := log.String(); !strings.Contains(got, "level=WARN") || !strings.Contains(got, "MaxTagBytes") || strings.Count(got, "\n") != 1 {
			t.Errorf("writes of %d bytes: got log %q, want one warning about MaxTagBytes", len(chunks[0]), got)
		}
	}
}

func TestMaxTagBytesHugeTag(t *testing.T) {
	var log bytes.Buffer
	r := newTestRewriter(t, Config{Logger: slog.New(slog.NewTextHandler(&log, nil))})
	in := []byte(`<a href=/a><img alt="` + strings.Repeat("z", 1<<20) + `" src=/b><a href=/c>`)
	want := `<a href=/3/a>` + string(in[len(`<a href=/a>`):])
	got := rewriteChunks(t, r, 3, splitEvery(in, 4096)...)
	if string(got) != want {
		t.Errorf("got %d bytes, want the %d input bytes unchanged after the first tag", len(got), len(want))
	}
	if !strings.Contains(log.String(), "MaxTagBytes") {
		t.Errorf("got log %q, want a warning", log.String())
	}
}

// TestLargeInputs runs inputs that would take minutes if any scan were
// quadratic in the length of a construct.
func TestLargeInputs(t *testing.T) {
	r := newTestRewriter(t, Config{})
	const n = 1 << 20
	tests := []struct {
		name string
		in   string
	}{
		{"comment of '>'", "<!--" + strings.Repeat("a>", n/2) + "-->"},
		{"comment of dashes", "<!--" + strings.Repeat("-a", n/2) + "-->"},
		{"script of '<'", "<script>" + strings.Repeat("<!", n/2) + "</script>"},
		{"escaped script", "<script><!--" + strings.Repeat("<s-", n/3) + "</script>"},
		{"textarea of '<'", "<textarea>" + strings.Repeat("</", n/2) + "</textarea>"},
		{"text of '<'", strings.Repeat("< ", n/2)},
		{"attribute of '>'", `<a title="` + strings.Repeat(">", 60000) + `" href=/x>`},
		{"many attributes", "<a" + strings.Repeat(" href=/x", 8000) + ">"},
		{"references", `<a href="/` + strings.Repeat("&a", 30000) + `">`},
		{"less-than signs", strings.Repeat("<", n)},
		{"markup declarations", strings.Repeat("<!", n/2)},
		{"nested scripts", "<script>" + strings.Repeat("<!--<script></script>", n/21)},
		{"srcset commas", `<img srcset="` + strings.Repeat("/a,", 20000) + `">`},
		{"duplicate attributes", "<a" + strings.Repeat(" hx-get=/x href=/x src=/y", 2000) + ">"},
	}
	for _, tt := range tests {
		in := []byte(tt.in)
		want := rewrite(t, r, 1, in)
		for _, size := range []int{1, 100, 4096} {
			if size == 1 && len(in) > 100000 {
				continue
			}
			if got := rewriteChunks(t, r, 1, splitEvery(in, size)...); !bytes.Equal(got, want) {
				t.Errorf("%s in writes of %d bytes: output differs from one write", tt.name, size)
			}
		}
	}
}
