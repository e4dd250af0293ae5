package tabs

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// writerTestConfig is the configuration of the rewriter table tests.
var writerTestConfig = Config{
	Exempt: []string{"/static/", "/healthz"},
	Attrs:  []string{"hx-get", "HX-Post", "data-href", "hx-push-url", "data-hx-Replace-Url"},
}

// writerTests are HTML snippets and their rewrite for tab 3. A want of ""
// means the input passes through unchanged.
var writerTests = []struct {
	name, in, want string
}{
	// Quoting styles, case, and where the prefix goes.
	{"double quotes", `<a href="/cart">Cart</a>`, `<a href="/3/cart">Cart</a>`},
	{"single quotes", `<a href='/cart'>`, `<a href='/3/cart'>`},
	{"unquoted", `<a href=/cart>`, `<a href=/3/cart>`},
	{"upper case", `<A HREF="/cart">`, `<A HREF="/3/cart">`},
	{"mixed case", `<Img Src="/a.png">`, `<Img Src="/3/a.png">`},
	{"root", `<a href="/">`, `<a href="/3/">`},
	{"query and fragment", `<a href="/cart?x=1#f">`, `<a href="/3/cart?x=1#f">`},
	{"root with query", `<a href="/?q=1">`, `<a href="/3/?q=1">`},
	{"spaces around =", `<a href = "/cart" >`, `<a href = "/3/cart" >`},
	{"leading space in value", `<a href="  /cart ">`, `<a href="  /3/cart ">`},
	{"newline before tag end", "<a\nhref=/x\n>", "<a\nhref=/3/x\n>"},
	{"tag split by lines", "<a class=x\n   href='/x'\n   id=y>", "<a class=x\n   href='/3/x'\n   id=y>"},

	// Not root-relative: other hosts, schemes, relative URLs.
	{"other host", `<a href="//example.com/x">`, ""},
	{"backslash host", `<a href="/\example.com/x">`, ""},
	{"tab hides host", "<a href=\"/\t/example.com\">", ""},
	{"entity tab hides host", `<a href="/&#9;/example.com">`, ""},
	{"http", `<a href="http://example.com/x">`, ""},
	{"https", `<a href="https://example.com/">`, ""},
	{"fragment", `<a href="#top">`, ""},
	{"query", `<a href="?page=2">`, ""},
	{"mailto", `<a href="mailto:a@example.com">`, ""},
	{"javascript", `<a href="javascript:alert(1)">`, ""},
	{"data", `<img src="data:image/png;base64,AAAA">`, ""},
	{"relative", `<a href="cart/x">`, ""},
	{"dot relative", `<a href="./cart">`, ""},
	{"empty", `<a href="">`, ""},
	{"no value", `<a href>`, ""},

	// Already prefixed, exempt, not a prefix.
	{"own prefix", `<a href="/3/cart">`, ""},
	{"other tab", `<a href="/7/cart">`, ""},
	{"tab root", `<a href="/0">`, ""},
	{"tab with query", `<a href="/12?x=1">`, ""},
	{"leading zero is no prefix", `<a href="/007/x">`, `<a href="/3/007/x">`},
	{"too large is no prefix", `<a href="/1000000/x">`, `<a href="/3/1000000/x">`},
	{"digits then letters", `<a href="/3x/y">`, `<a href="/3/3x/y">`},
	{"exempt directory", `<link rel=stylesheet href="/static/app.css">`, ""},
	{"exempt directory needs its slash", `<a href="/static">`, `<a href="/3/static">`},
	{"exempt path", `<a href="/healthz">`, ""},
	{"exempt path with query", `<a href="/healthz?full=1">`, ""},
	{"exempt path with subpath", `<a href="/healthz/db">`, ""},
	{"exempt path is not a prefix", `<a href="/healthzz">`, `<a href="/3/healthzz">`},

	// The attributes that hold URLs.
	{"src", `<script src="/app.js"></script>`, `<script src="/3/app.js"></script>`},
	{"action", `<form action="/pay" method="post">`, `<form action="/3/pay" method="post">`},
	{"formaction", `<button formaction="/void">`, `<button formaction="/3/void">`},
	{"poster", `<video poster="/p.jpg" src="/v.mp4">`, `<video poster="/3/p.jpg" src="/3/v.mp4">`},
	{"base", `<base href="/">`, `<base href="/3/">`},
	{"extra attribute", `<button hx-get="/rows">`, `<button hx-get="/3/rows">`},
	{"extra attribute case", `<div HX-POST=/save data-href='/p'>`, `<div HX-POST=/3/save data-href='/3/p'>`},
	{"other attributes", `<div data-x="/x" title="/t" class=/c>`, ""},
	{"data-hx spelling", `<button data-hx-get="/rows">`, `<button data-hx-get="/3/rows">`},
	{"data-hx spelling case", `<form DATA-HX-POST=/cart Data-Hx-Get='/x'>`, `<form DATA-HX-POST=/3/cart Data-Hx-Get='/3/x'>`},
	{"data-hx spelling both", `<a hx-get="/a" data-hx-get="/b">`, `<a hx-get="/3/a" data-hx-get="/3/b">`},
	{"data-hx of an unlisted attribute", `<button data-hx-delete="/x" hx-delete="/y">`, ""},
	{"listed as data-hx, spelled hx", `<a hx-replace-url="/x" data-hx-replace-url="/y">`, `<a hx-replace-url="/3/x" data-hx-replace-url="/3/y">`},
	{"data- of a name without hx-", `<a data-data-href="/x" data-get="/y">`, ""},
	{"hx-push-url true", `<a hx-push-url="true" data-hx-push-url="false" href="/x">`, `<a hx-push-url="true" data-hx-push-url="false" href="/3/x">`},
	{"hx-push-url URL", `<a hx-push-url="/x" data-hx-push-url=/y>`, `<a hx-push-url="/3/x" data-hx-push-url=/3/y>`},
	{"hx-push-url unquoted true", `<a hx-push-url=true data-hx-push-url=TRUE>`, ""},
	{"every attribute", `<a class="btn" href="/a" hx-get="/b" id=x>`, `<a class="btn" href="/3/a" hx-get="/3/b" id=x>`},

	// srcset.
	{"srcset", `<img srcset="/a.png 1x, /b.png 2x">`, `<img srcset="/3/a.png 1x, /3/b.png 2x">`},
	{"srcset widths", `<img srcset="/a.png 480w,/b.png 800w" sizes="50vw">`, `<img srcset="/3/a.png 480w,/3/b.png 800w" sizes="50vw">`},
	{"srcset mixed hosts", `<img srcset="https://cdn.example/a.png 1x, /b.png 2x">`, `<img srcset="https://cdn.example/a.png 1x, /3/b.png 2x">`},
	{"srcset data URL with comma", `<img srcset="data:image/png;base64,AA 1x, /b.png 2x">`, `<img srcset="data:image/png;base64,AA 1x, /3/b.png 2x">`},
	{"srcset trailing commas", `<img srcset="/a.png,, /b.png">`, `<img srcset="/3/a.png,, /3/b.png">`},
	{"srcset comma without space is in the URL", `<img srcset="/a.png,/b.png">`, `<img srcset="/3/a.png,/b.png">`},
	{"srcset parenthesised comma", `<img srcset="/a.png (x, y) 1x, /b.png">`, `<img srcset="/3/a.png (x, y) 1x, /3/b.png">`},
	{"srcset exempt", `<img srcset="/static/a.png 1x, /b.png 2x">`, `<img srcset="/static/a.png 1x, /3/b.png 2x">`},
	{"srcset newlines", "<img srcset=\"\n  /a.png 1x,\n  /b.png 2x\">", "<img srcset=\"\n  /3/a.png 1x,\n  /3/b.png 2x\">"},
	{"srcset reference after a URL", `<img srcset="/a.png?x=1&amp;y=2 1x, /b.png 2x">`, `<img srcset="/3/a.png?x=1&amp;y=2 1x, /3/b.png 2x">`},
	{"srcset reference respelled", `<img srcset="/a.png?x=1&y=2 1x, /b.png 2x">`, `<img srcset="/3/a.png?x=1&amp;y=2 1x, /3/b.png 2x">`},

	// <meta http-equiv=refresh>.
	{"refresh", `<meta http-equiv="refresh" content="0;url=/x">`, `<meta http-equiv="refresh" content="0;url=/3/x">`},
	{"refresh quoted URL", `<meta http-equiv=Refresh content="0; URL='/x'">`, `<meta http-equiv=Refresh content="0; URL='/3/x'">`},
	{"refresh without url=", `<meta http-equiv=refresh content="5, /x">`, `<meta http-equiv=refresh content="5, /3/x">`},
	{"refresh attributes reversed", `<META CONTENT="0;url=/x" HTTP-EQUIV="REFRESH">`, `<META CONTENT="0;url=/3/x" HTTP-EQUIV="REFRESH">`},
	{"refresh other host", `<meta http-equiv=refresh content="0;url=https://example.com/">`, ""},
	{"refresh delay only", `<meta http-equiv=refresh content="30">`, ""},
	{"meta content is no URL", `<meta name="x" content="/x">`, ""},
	{"content outside meta", `<div http-equiv=refresh content="0;url=/x">`, ""},

	// Character references, CR and NUL in values.
	{"reference slash", `<a href="&#x2F;cart">`, `<a href="/3&#x2F;cart">`},
	{"reference named slash", `<a href="&sol;cart">`, `<a href="/3&sol;cart">`},
	{"reference in query", `<a href="/search?q=a&amp;page=2">`, `<a href="/3/search?q=a&amp;page=2">`},
	{"reference makes other host", `<a href="/&#47;example.com">`, ""},
	{"reference already prefixed", `<a href="&#47;3/cart">`, ""},
	{"reference at exempt", `<a href="/st&#97;tic/a.css">`, ""},
	{"CR LF in value", "<a href=\"/x\r\ny\">", "<a href=\"/3/x\r\ny\">"},
	{"NUL in value", "<a href=\"/x\x00\">", "<a href=\"/3/x\x00\">"},

	// Tokenizer corners: duplicates, slashes, quotes.
	{"duplicate attribute", `<a href="/x" href="/y">`, `<a href="/3/x" href="/y">`},
	{"duplicate attribute any case", `<a HREF=/x href=/y>`, `<a HREF=/3/x href=/y>`},
	{"empty first duplicate", `<a href href=/y>`, ""},
	{"slash before attribute", `<a/href=/x>`, `<a/href=/3/x>`},
	{"slash after name", `<a href /x>`, ""},
	{"self-closing", `<img src="/a.png"/>`, `<img src="/3/a.png"/>`},
	{"unquoted ending in slash", `<a href=/x/>`, `<a href=/3/x/>`},
	{"quoted >", `<a title=">" href=/x>`, `<a title=">" href=/3/x>`},
	{"no space between attributes", `<a href="/x"title=y>`, `<a href="/3/x"title=y>`},
	{"equals starts a name", `<a =href=/x>`, ""},
	{"end tag attributes", `</a href=/x>`, ""},
	{"text less-than", `a < b <a href=/x>`, `a < b <a href=/3/x>`},
	{"double less-than", `<<a href=/x>`, `<<a href=/3/x>`},
	{"empty end tag", `</><a href=/x>`, `</><a href=/3/x>`},
	{"bogus end tag", `</ <a href=/x>`, ``},
	{"unterminated tag", `<a href="/x"`, ""},
	{"unterminated value", `<a href="/x>`, ""},
	{"unterminated unquoted", `<a href=/x`, ""},
	{"lone less-than at end", `<a href=/x><`, `<a href=/3/x><`},

	// Comments, doctype, CDATA, processing instructions.
	{"comment", `<!-- <a href=/x> --><a href=/y>`, `<!-- <a href=/x> --><a href=/3/y>`},
	{"comment bang end", `<!-- <a href=/x> --!><a href=/y>`, `<!-- <a href=/x> --!><a href=/3/y>`},
	{"empty comment", `<!--><a href=/y>`, `<!--><a href=/3/y>`},
	{"empty comment with dash", `<!---><a href=/y>`, `<!---><a href=/3/y>`},
	{"comment not ended by ->", `<!-- -> <a href=/x> --><a href=/y>`, `<!-- -> <a href=/x> --><a href=/3/y>`},
	{"unterminated comment", `<!-- <a href=/x>`, ""},
	{"doctype", `<!DOCTYPE html><a href=/x>`, `<!DOCTYPE html><a href=/3/x>`},
	{"cdata is a bogus comment", `<![CDATA[<a href=/x>]]>`, ""},
	{"cdata ends at first >", `<![CDATA[ a > <a href=/x> ]]>`, `<![CDATA[ a > <a href=/3/x> ]]>`},
	{"processing instruction", `<?xml version="1.0"?><a href=/x>`, `<?xml version="1.0"?><a href=/3/x>`},

	// Raw text and RCDATA elements.
	{"script", `<script>var s = "<a href=/x>";</script><a href=/y>`, `<script>var s = "<a href=/x>";</script><a href=/3/y>`},
	{"script upper case", `<SCRIPT>"<a href=/x>"</SCRIPT ><a href=/y>`, `<SCRIPT>"<a href=/x>"</SCRIPT ><a href=/3/y>`},
	{"script self-closing is still raw", `<script/><a href=/x></script>`, ""},
	{"script not ended by prefix", `<script></scripts><a href=/x></script>`, ""},
	{"script escaped", `<script><!-- <a href=/x> --></script><a href=/y>`, `<script><!-- <a href=/x> --></script><a href=/3/y>`},
	{"script double escaped", `<script><!-- <script> </script> <a href=/x> --></script><a href=/y>`, `<script><!-- <script> </script> <a href=/x> --></script><a href=/3/y>`},
	{"script double escaped end", `<script><!--<script></script><a href=/x></script><a href=/y>`, `<script><!--<script></script><a href=/x></script><a href=/3/y>`},
	{"style", `<style>a[href="/x"] { background: url(/i.png) }</style><a href=/y>`, `<style>a[href="/x"] { background: url(/i.png) }</style><a href=/3/y>`},
	{"textarea", `<textarea><a href=/x></textarea><a href=/y>`, `<textarea><a href=/x></textarea><a href=/3/y>`},
	{"title", `<title><a href=/x></title><a href=/y>`, `<title><a href=/x></title><a href=/3/y>`},
	{"title end needs a delimiter", `<title></titlex><a href=/x></title>`, ""},
	{"xmp", `<xmp><a href=/x></xmp>`, ""},
	{"iframe", `<iframe src="/frame"><a href=/x></iframe>`, `<iframe src="/3/frame"><a href=/x></iframe>`},
	{"noembed", `<noembed><a href=/x></noembed>`, ""},
	{"noframes", `<noframes><a href=/x></noframes>`, ""},
	{"noscript", `<noscript><a href=/x></noscript>`, ""},
	{"plaintext", `<plaintext><a href=/x></plaintext><a href=/y>`, ""},
	{"end tag with quoted >", `<style></style title=">"><a href=/x>`, `<style></style title=">"><a href=/3/x>`},
}

func TestWriter(t *testing.T) {
	r := newTestRewriter(t, writerTestConfig)
	for _, tt := range writerTests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			if want == "" {
				want = tt.in
			}
			if got := string(rewrite(t, r, 3, []byte(tt.in))); got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

// TestWriterSplits feeds every test input in two writes split at every
// offset, and in single bytes, and expects the output of one write.
func TestWriterSplits(t *testing.T) {
	r := newTestRewriter(t, writerTestConfig)
	for _, tt := range writerTests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			want := rewrite(t, r, 3, in)
			for i := 0; i <= len(in); i++ {
				if got := rewriteChunks(t, r, 3, in[:i], in[i:]); !bytes.Equal(got, want) {
					t.Errorf("split at %d: got %q, want %q", i, got, want)
				}
			}
			if got := rewriteChunks(t, r, 3, splitEvery(in, 1)...); !bytes.Equal(got, want) {
				t.Errorf("bytewise: got %q, want %q", got, want)
			}
		})
	}
}

// TestWriterMatchesReference checks every test input against the reference
// rewriter built on the html package's tokenizer.
func TestWriterMatchesReference(t *testing.T) {
	r := newTestRewriter(t, writerTestConfig)
	for _, tt := range writerTests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			if err := diffTokens(in, rewrite(t, r, 3, in), referenceRewrite(r, writerTestConfig.Attrs, 3, in)); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestWriterPage runs the benchmark page through the same checks: it has
// all the constructs at realistic sizes.
func TestWriterPage(t *testing.T) {
	r := newTestRewriter(t, benchConfig)
	page := benchPage()
	got := rewrite(t, r, 3, page)
	if err := diffTokens(page, got, referenceRewrite(r, benchConfig.Attrs, 3, page)); err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{1, 7, 512, 4096} {
		if chunked := rewriteChunks(t, r, 3, splitEvery(page, size)...); !bytes.Equal(chunked, got) {
			t.Errorf("writes of %d bytes: output differs from one write", size)
		}
	}
	if again := rewrite(t, r, 3, got); !bytes.Equal(again, got) {
		t.Errorf("rewriting the output changed it")
	}
	if n := bytes.Count(got, []byte(`"/3/`)); n < 100 {
		t.Errorf("got %d prefixed URLs, want the page's many links rewritten", n)
	}
}

func splitEvery(b []byte, n int) [][]byte {
	var chunks [][]byte
	for len(b) > n {
		chunks = append(chunks, b[:n])
		b = b[n:]
	}
	return append(chunks, b)
}

func TestWriterReset(t *testing.T) {
	r := newTestRewriter(t, Config{})
	var first, second bytes.Buffer
	w := r.NewWriter(&first, 1)
	// Leave a tag unfinished: Reset must drop it.
	if _, err := w.Write([]byte(`<a href=/x><a href="/y`)); err != nil {
		t.Fatal(err)
	}
	w.Reset(&second, 2)
	if _, err := w.Write([]byte(`<a href=/z>`)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := first.String(), `<a href=/1/x>`; got != want {
		t.Errorf("first response: got %q, want %q", got, want)
	}
	if got, want := second.String(), `<a href=/2/z>`; got != want {
		t.Errorf("second response: got %q, want %q", got, want)
	}
	w.Reset(&second, 4)
	if _, err := w.Write([]byte(`<a href=/q>`)); err != nil {
		t.Fatalf("Write after Close and Reset: %v", err)
	}
}

func TestWriterAfterClose(t *testing.T) {
	r := newTestRewriter(t, Config{})
	w := r.NewWriter(&bytes.Buffer{}, 1)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, ErrWriterClosed) {
		t.Errorf("got %v, want %v", err, ErrWriterClosed)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: got %v, want nil", err)
	}
}

// failingWriter fails every write after the first n bytes.
type failingWriter struct{ n int }

var errDst = errors.New("dst failed")

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		return 0, errDst
	}
	f.n -= len(p)
	return len(p), nil
}

func TestWriterDstError(t *testing.T) {
	r := newTestRewriter(t, Config{})
	w := r.NewWriter(&failingWriter{n: 3}, 1)
	if _, err := w.Write([]byte(strings.Repeat(`<a href=/x>`, 10))); !errors.Is(err, errDst) {
		t.Errorf("Write: got %v, want %v", err, errDst)
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, errDst) {
		t.Errorf("second Write: got %v, want %v", err, errDst)
	}
	if err := w.Close(); !errors.Is(err, errDst) {
		t.Errorf("Close: got %v, want %v", err, errDst)
	}
}
