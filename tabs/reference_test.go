package tabs

import (
	"bytes"
	"strings"

	"golang.org/x/net/html"
)

// referenceRewrite is the oracle for Writer: the same rewriting built on
// golang.org/x/net/html's Tokenizer. It copies the raw bytes of every token
// it does not change and re-serializes the tags it changes. It shares the
// URL rules (prefixPosition, appendSrcsetURLs, refreshURL) with Writer but
// none of the tokenizing, attribute decoding or attribute lookup: attrs is
// the Config.Attrs the Rewriter was made with.
func referenceRewrite(r *Rewriter, attrs []string, id ID, in []byte) []byte {
	var out bytes.Buffer
	z := html.NewTokenizer(bytes.NewReader(in))
	prefix := "/" + id.String()
	for {
		tt := z.Next()
		raw := append([]byte(nil), z.Raw()...)
		switch tt {
		case html.ErrorToken:
			// At the end of input, Raw holds whatever was left incomplete.
			out.Write(raw)
			return out.Bytes()
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			if referenceRewriteTag(r, attrs, prefix, &tok) {
				out.WriteString(tok.String())
				continue
			}
		}
		out.Write(raw)
	}
}

// referenceRewriteTag rewrites the URL attributes of tok and reports
// whether it changed any.
func referenceRewriteTag(r *Rewriter, attrs []string, prefix string, tok *html.Token) bool {
	refresh := false
	if tok.Data == "meta" {
		for _, a := range tok.Attr {
			if a.Key == "http-equiv" {
				refresh = strings.EqualFold(a.Val, "refresh")
			}
		}
	}
	changed := false
	for i, a := range tok.Attr {
		var v string
		switch {
		case a.Key == "srcset":
			v = referenceSrcset(r, prefix, a.Val)
		case a.Key == "content" && refresh:
			start, end, ok := refreshURL(a.Val)
			if !ok {
				continue
			}
			v = a.Val[:start] + referenceURL(r, prefix, a.Val[start:end]) + a.Val[end:]
		case a.Key == "content" || a.Key == "http-equiv":
			continue
		case referenceURLAttr(attrs, a.Key):
			v = referenceURL(r, prefix, a.Val)
		default:
			continue
		}
		if v != a.Val {
			tok.Attr[i].Val = v
			changed = true
		}
	}
	return changed
}

// referenceURLAttr reports whether the attribute key, in lower case as the
// tokenizer gives it, holds one URL: a built-in one, one of attrs in any
// case, or the other spelling of an htmx attribute in attrs, as htmx reads
// data-hx-get like hx-get.
func referenceURLAttr(attrs []string, key string) bool {
	switch key {
	case "href", "src", "action", "formaction", "poster":
		return true
	}
	lower := func(s string) string {
		return strings.Map(func(r rune) rune {
			if 'A' <= r && r <= 'Z' {
				return r + 'a' - 'A'
			}
			return r
		}, s)
	}
	for _, a := range attrs {
		a = lower(a)
		if key == a ||
			strings.HasPrefix(a, "hx-") && key == "data-"+a ||
			strings.HasPrefix(a, "data-hx-") && key == strings.TrimPrefix(a, "data-") {
			return true
		}
	}
	return false
}

func referenceURL(r *Rewriter, prefix, u string) string {
	if at, ok := prefixPosition(r, u); ok {
		return u[:at] + prefix + u[at:]
	}
	return u
}

func referenceSrcset(r *Rewriter, prefix, v string) string {
	var b strings.Builder
	prev := 0
	for _, sp := range appendSrcsetURLs(nil, []byte(v)) {
		b.WriteString(v[prev:sp.start])
		b.WriteString(referenceURL(r, prefix, v[sp.start:sp.end]))
		prev = sp.end
	}
	b.WriteString(v[prev:])
	return b.String()
}
