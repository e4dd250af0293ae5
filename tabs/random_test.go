package tabs

import (
	"bytes"
	"flag"
	"math/rand/v2"
	"strings"
	"testing"
)

var randomDocuments = flag.Int("tabs.random", 300, "number of documents TestWriterRandomDocuments checks")

// randomHTML builds a document of n tags from parts chosen to hit the
// scanner's corners: candidate and other attribute names in any case,
// every quoting style, white space around '=', references, raw-text
// elements and comments, with enough text around them for the word-at-a-
// time paths to run.
func randomHTML(rng *rand.Rand, n int) []byte {
	pick := func(options ...string) string { return options[rng.IntN(len(options))] }
	randomCase := func(s string) string {
		b := []byte(s)
		for i := range b {
			if rng.IntN(3) == 0 && 'a' <= b[i] && b[i] <= 'z' {
				b[i] -= 'a' - 'A'
			}
		}
		return string(b)
	}
	var b strings.Builder
	for range n {
		b.WriteString(pick("", "\n  ", " text ", "a < b ", "&amp; ", "\n"))
		switch rng.IntN(12) {
		case 0:
			b.WriteString(pick("<!-- <a href=/c> -->", "<!---->", "<!-->", "<!-- --!>", "<!DOCTYPE html>", "<?x?>", "</>"))
			continue
		case 1:
			el := pick("script", "style", "title", "textarea", "noscript", "xmp")
			b.WriteString("<" + randomCase(el) + ">" + pick("<a href=/r>", "<!--<script></script>-->", "</"+el+"x>", "") + "</" + randomCase(el) + pick(">", " >", "/>"))
			continue
		case 2:
			b.WriteString("</" + pick("a", "td", "div", "tr") + pick(">", " >", " x=\">\">", "\n>"))
			continue
		}
		b.WriteString("<" + randomCase(pick("a", "img", "meta", "form", "button", "div", "link", "input")))
		for range rng.IntN(5) {
			b.WriteString(pick(" ", "  ", "\n", "\t", "/", ""))
			name := pick("href", "src", "srcset", "action", "formaction", "poster", "hx-get", "data-href",
				"data-hx-get", "data-hx-post", "hx-push-url", "data-hx-push-url", "data-hx-delete", "content", "http-equiv", "class", "id", "title", "hx-target", "aria-label", "=x", "a\"b")
			b.WriteString(randomCase(name))
			value := pick("/x", "/3/x", "/007/y", "//h/x", "/\\h", "/static/a.css", "/healthz?x", "https://h/", "x/y", "#f",
				"/a 1x, /b 2x", "0;url=/z", "refresh", "REFRESH", "&#x2F;c", "/q?a=1&amp;b=2", "/q?a=1&b=2",
				"/x&#13;y", " /sp ", "true", "false", "btn btn-primary", "", "/"+strings.Repeat("long", rng.IntN(8)))
			switch rng.IntN(6) {
			case 0:
				// No value.
			case 1:
				b.WriteString(pick("=", " = ", "= ") + strings.ReplaceAll(strings.ReplaceAll(value, " ", ""), ">", ""))
			case 2:
				b.WriteString(pick("=", " =") + "'" + strings.ReplaceAll(value, "'", "") + "'")
			default:
				b.WriteString(pick("=", "= ") + `"` + strings.ReplaceAll(value, `"`, "") + `"`)
			}
		}
		b.WriteString(pick(">", " >", "/>", " />", "\n>"))
	}
	return []byte(b.String())
}

func TestWriterRandomDocuments(t *testing.T) {
	r := newTestRewriter(t, writerTestConfig)
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range *randomDocuments {
		in := randomHTML(rng, 1+n%40)
		got := rewrite(t, r, 3, in)
		if err := diffTokens(in, got, referenceRewrite(r, writerTestConfig.Attrs, 3, in)); err != nil {
			t.Fatalf("document %d: %v\ninput:  %q\noutput: %q", n, err, in, got)
		}
		if err := checkPrefixes(r, writerTestConfig.Attrs, 3, in, got); err != nil {
			t.Fatalf("document %d: %v\ninput:  %q", n, err, in)
		}
		if again := rewrite(t, r, 3, got); !bytes.Equal(again, got) {
			t.Fatalf("document %d: not idempotent", n)
		}
		at := rng.IntN(len(in) + 1)
		if chunked := rewriteChunks(t, r, 3, in[:at], in[at:]); !bytes.Equal(chunked, got) {
			t.Fatalf("document %d split at %d: output differs", n, at)
		}
	}
}
