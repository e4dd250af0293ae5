package tabs

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{"/3/cart", "/3", "/0/", "/007/", "/-1/", "/1e3/", "/99999999999999999999/",
		"/%31/", "/+1/", "//3/", "/ 3/", "/3x/", "/+/cart", "/+", "", "/", "/999999/x", "/1000000/x",
		"/77", "/77/", "/5", "/5/%2F%2Fx", "/5%2F"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		id, rest, ok := Parse(path)
		newRest, isNew := ParseNew(path)
		if ok {
			if id > DefaultMaxID || !strings.HasPrefix(rest, "/") {
				t.Fatalf("Parse(%q) = (%v, %q): out of range or rest without '/'", path, id, rest)
			}
			if canonical := "/" + id.String(); path != canonical && !strings.HasPrefix(path, canonical+"/") {
				t.Fatalf("Parse(%q) = %v: %q is not its canonical prefix", path, id, canonical)
			}
			if id2, rest2, ok2 := Parse("/" + id.String() + rest); id2 != id || rest2 != rest || !ok2 {
				t.Fatalf("round trip of %q: got (%v, %q, %v), want (%v, %q, true)", path, id2, rest2, ok2, id, rest)
			}
			// A rest such as "//x" points to another host and keeps no
			// prefix; any other gets one that parses back.
			if p := Prefix(id, rest); p != rest {
				if id2, rest2, ok2 := Parse(p); id2 != id || rest2 != rest || !ok2 {
					t.Fatalf("Parse(Prefix(%v, %q)): got (%v, %q, %v), want (%v, %q, true)", id, rest, id2, rest2, ok2, id, rest)
				}
			}
			if !HasNumericFirstSegment(path) {
				t.Fatalf("Parse(%q) ok but HasNumericFirstSegment is false", path)
			}
			if isNew {
				t.Fatalf("%q is both a tab prefix and the new-tab entry", path)
			}
		}
		if sid, n, sok := SplitPrefix(path, DefaultMaxID); sok != ok || sid != id {
			t.Fatalf("SplitPrefix(%q) = (%v, %d, %v), Parse = (%v, %v)", path, sid, n, sok, id, ok)
		} else if sok {
			if path[:n] != "/"+id.String() || (n < len(path) && path[n] != '/') {
				t.Fatalf("SplitPrefix(%q) = (%v, %d): the length does not end the prefix", path, sid, n)
			}
			if (n == len(path) && rest != "/") || (n < len(path) && rest != path[n:]) {
				t.Fatalf("SplitPrefix(%q) = %d, but Parse's rest is %q", path, n, rest)
			}
			// The unescaped form of the path starts with the same prefix.
			if unescaped, err := url.PathUnescape(path); err == nil {
				if unescaped[:n] != path[:n] || (n < len(unescaped) && unescaped[n] != '/') {
					t.Fatalf("SplitPrefix(%q) = %d, but the unescaped path is %q", path, n, unescaped)
				}
			}
		}
		if isNew && (!strings.HasPrefix(newRest, "/") || !strings.HasPrefix(path, "/+")) {
			t.Fatalf("ParseNew(%q) = %q", path, newRest)
		}
		const tab = 42
		p := Prefix(tab, path)
		if Prefix(tab, p) != p {
			t.Fatalf("Prefix is not idempotent on %q: %q then %q", path, p, Prefix(tab, p))
		}
		if p != path {
			if p != "/42"+path && !strings.Contains(p, "/42/") {
				t.Fatalf("Prefix(42, %q) = %q", path, p)
			}
			if strings.HasPrefix(path, "/") {
				if id2, rest2, ok2 := Parse(p); id2 != tab || !ok2 || (rest2 != path && path != "/") {
					t.Fatalf("Parse(Prefix(42, %q)) = (%v, %q, %v)", path, id2, rest2, ok2)
				}
			}
		}
	})
}

// fuzzConfig rewrites like writerTestConfig, with room for any fuzz input
// in one tag.
var fuzzConfig = Config{
	Exempt:      writerTestConfig.Exempt,
	Attrs:       writerTestConfig.Attrs,
	MaxTagBytes: 1 << 20,
}

func FuzzRewrite(f *testing.F) {
	for _, tt := range writerTests {
		f.Add([]byte(tt.in), uint32(3), uint16(len(tt.in)/2))
	}
	f.Add(benchPage()[:4000], uint32(0), uint16(1000))
	f.Add([]byte(`<script><!--<script></script><a href=/x></script><a href=/y>`), uint32(999999), uint16(9))
	f.Add([]byte(`<a href="/x&amp;y" href=/z src='&#47;a'>`), uint32(12), uint16(20))
	f.Add([]byte(`<meta content="0;url=/x" http-equiv=refresh><img srcset="/a 1x,/b 2x">`), uint32(1), uint16(30))
	f.Add([]byte(`<div data-hx-get="/a" DATA-HX-POST='/b' hx-push-url=true data-hx-push-url="/c" data-hx-replace-url="false" hx-replace-url=/d>`), uint32(4), uint16(17))

	r, err := New(fuzzConfig)
	if err != nil {
		f.Fatal(err)
	}
	small, err := New(Config{
		MaxTagBytes: 16,
		Exempt:      fuzzConfig.Exempt,
		Attrs:       fuzzConfig.Attrs,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte, idSeed uint32, split uint16) {
		if len(in) > fuzzConfig.MaxTagBytes {
			return
		}
		id := ID(idSeed % (uint32(DefaultMaxID) + 1))
		got := rewrite(t, r, id, in)
		at := int(split) % (len(in) + 1)
		if chunked := rewriteChunks(t, r, id, in[:at], in[at:]); !bytes.Equal(chunked, got) {
			t.Fatalf("split at %d: got %q, want %q", at, chunked, got)
		}
		if len(in) < 512 {
			if bytewise := rewriteChunks(t, r, id, splitEvery(in, 1)...); !bytes.Equal(bytewise, got) {
				t.Fatalf("bytewise: got %q, want %q", bytewise, got)
			}
		}
		if err := diffTokens(in, got, referenceRewrite(r, fuzzConfig.Attrs, id, in)); err != nil {
			t.Fatalf("against the reference: %v\ninput:  %q\noutput: %q", err, in, got)
		}
		if again := rewrite(t, r, id, got); !bytes.Equal(again, got) {
			t.Fatalf("not idempotent:\nonce:  %q\ntwice: %q", got, again)
		}
		if tin, tout := tokenTypes(in), tokenTypes(got); !reflect.DeepEqual(tin, tout) {
			t.Fatalf("token types: got %v, want %v", tout, tin)
		}
		if err := checkPrefixes(r, fuzzConfig.Attrs, id, in, got); err != nil {
			t.Fatalf("%v\ninput:  %q\noutput: %q", err, in, got)
		}

		// With a tiny MaxTagBytes the result must still not depend on
		// how the input is split, and lose no byte.
		capped := rewrite(t, small, id, in)
		if chunked := rewriteChunks(t, small, id, in[:at], in[at:]); !bytes.Equal(chunked, capped) {
			t.Fatalf("MaxTagBytes 16, split at %d: got %q, want %q", at, chunked, capped)
		}
		if tin, tout := tokenTypes(in), tokenTypes(capped); !reflect.DeepEqual(tin, tout) {
			t.Fatalf("MaxTagBytes 16: token types: got %v, want %v", tout, tin)
		}
	})
}

// checkPrefixes checks every URL that the rewrite of in, by r made with
// Config.Attrs attrs, changed: it must
// have been root-relative without a prefix, and gained exactly the prefix
// of tab id at its start.
func checkPrefixes(r *Rewriter, attrs []string, id ID, in, out []byte) error {
	zi := html.NewTokenizer(bytes.NewReader(in))
	zo := html.NewTokenizer(bytes.NewReader(out))
	for {
		ti, to := zi.Next(), zo.Next()
		if ti == html.ErrorToken || to == html.ErrorToken {
			return nil
		}
		if ti != html.StartTagToken && ti != html.SelfClosingTagToken {
			continue
		}
		tokIn, tokOut := zi.Token(), zo.Token()
		if len(tokIn.Attr) != len(tokOut.Attr) {
			return fmt.Errorf("attributes: got %v, want %v", tokOut.Attr, tokIn.Attr)
		}
		for k, a := range tokOut.Attr {
			before := tokIn.Attr[k].Val
			if a.Key != tokIn.Attr[k].Key {
				return fmt.Errorf("attribute %d: got key %q, want %q", k, a.Key, tokIn.Attr[k].Key)
			}
			var err error
			switch {
			case a.Key == "srcset":
				err = checkSrcsetChange(r, id, before, a.Val)
			case a.Key == "content" || a.Key == "http-equiv":
				// Checked by the reference comparison.
			case referenceURLAttr(attrs, a.Key):
				err = checkURLChange(r, id, before, a.Val)
			default:
				if a.Val != before {
					err = fmt.Errorf("attribute %s changed: %q to %q", a.Key, before, a.Val)
				}
			}
			if err != nil {
				return err
			}
		}
	}
}

func checkURLChange(r *Rewriter, id ID, before, after string) error {
	if before == after {
		return nil
	}
	start, end, ok := rootRelative(before)
	if !ok || hasTabPrefix(before, start, end, r.maxID) {
		return fmt.Errorf("URL %q needs no prefix but became %q", before, after)
	}
	if want := before[:start] + "/" + id.String() + before[start:]; after != want {
		return fmt.Errorf("URL %q became %q, want %q", before, after, want)
	}
	return nil
}

func checkSrcsetChange(r *Rewriter, id ID, before, after string) error {
	spansBefore := appendSrcsetURLs(nil, []byte(before))
	spansAfter := appendSrcsetURLs(nil, []byte(after))
	if len(spansBefore) != len(spansAfter) {
		return fmt.Errorf("srcset %q became %q with a different number of candidates", before, after)
	}
	for k, sp := range spansBefore {
		if err := checkURLChange(r, id, before[sp.start:sp.end], after[spansAfter[k].start:spansAfter[k].end]); err != nil {
			return err
		}
	}
	return nil
}
