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
// none of the tokenizing or attribute decoding.
func referenceRewrite(r *Rewriter, id ID, in []byte) []byte {
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
			if referenceRewriteTag(r, prefix, &tok) {
				out.WriteString(tok.String())
				continue
			}
		}
		out.Write(raw)
	}
}

// referenceRewriteTag rewrites the URL attributes of tok and reports
// whether it changed any.
func referenceRewriteTag(r *Rewriter, prefix string, tok *html.Token) bool {
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
		case r.attrs.lookup([]byte(a.Key)) >= 0:
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
