// Package tabs gives each browser tab of one session its own number in the
// URL path, so that a server can keep tabs apart under a single session
// cookie: "/0/cart" and "/3/cart" are the same page in two tabs, the way
// multi-account mail uses "/u/0/".
//
// The package knows nothing of sessions or web frameworks. It parses and
// strips the "/N" prefix (Parse, SplitPrefix, StripPrefix), carries the
// tab ID in a context (WithID, IDFromContext), and puts the prefix back
// into URLs: one at a time (Prefix, Rewriter.URL) for templates, in the
// response headers that hold URLs (Rewriter.Header, for the URLHeaders:
// Location, Refresh, HX-Location and the other htmx headers), and in
// whole HTML responses with a streaming rewriter (Rewriter.NewWriter) that
// prefixes the root-relative URLs of href, src, action, formaction,
// poster, srcset, <meta http-equiv=refresh> and any attributes configured,
// such as htmx's hx-get (also spelled data-hx-get). LocalPath makes a
// redirect target built from a request path safe to send.
//
// SplitPrefix, unlike Parse, says how many bytes the prefix took, so that
// a router can cut it from the escaped and the unescaped path alike:
// "/77" is tab 77 with nothing after it, never tab 7 and a "7".
//
// Usage with net/http:
//
//	r, err := tabs.New(tabs.Config{Attrs: []string{"hx-get", "hx-post"}})
//	handler := r.StripPrefix(mux) // "/3/cart" is served by the "/cart" route
//	// In a handler, for an HTML response:
//	id, _ := tabs.IDFromContext(req.Context())
//	w := r.NewWriter(resp, id); defer w.Close(); page.Execute(w, data)
//
// The rewriter reads HTML the way golang.org/x/net/html's Tokenizer does,
// which follows the tokenization rules of the HTML standard: URLs inside
// comments, scripts, styles, textareas and the other raw-text elements are
// left alone, attribute values are decoded before they are judged, and
// only the changed attribute values are rewritten, so every other byte of
// the response passes through as it was. It makes one pass, holds at most
// one tag (Config.MaxTagBytes) and allocates nothing in the steady state.
//
// # Security
//
// The tab number is not a secret and grants nothing: the session cookie
// authenticates, and the number only selects a tab inside the session.
// Only the canonical spelling of a number is a prefix ("/3/", never
// "/03/", "/%33/" or "/+3/"), so every tab has one URL.
//
// A URL is rewritten only when a browser would resolve it to a path on the
// same host. URLs to other hosts ("//host/x", "https://x/"), including
// those a browser still reads as another host ("/\host", a tab between
// the two slashes, "&#47;/host"), and URLs with a scheme ("javascript:",
// "data:", "mailto:") are never touched, so rewriting cannot send a link
// anywhere new. A URL that already carries a tab prefix never gets a
// second one, which also makes rewriting idempotent. Exempt prefixes
// (Config.Exempt, "/static/" by default) keep shared resources shared and
// cacheable across tabs.
//
// A redirect that a server builds from its own request path, such as
// "/" + what follows the tab prefix, is the client's choice of URL:
// "//evil.example/x" would leave the host. LocalPath turns any such path
// into one that browsers resolve on the same origin, whichever spelling
// of the second slash it uses ("/\host", "/%2F/host", a tab between the
// slashes), and percent-encodes the control bytes and CR LF that could
// split a header. The prefix goes in afterwards: Prefix(id,
// LocalPath(p)). Header and URL only ever add a prefix; they never make a
// URL safe by themselves.
//
// Memory per response is bounded: a tag longer than Config.MaxTagBytes is
// not buffered; it and the rest of the response pass through unmodified,
// never truncated, and a warning is logged.
//
// # Caveats
//
// URLs built by JavaScript at run time (fetch("/api/x"), location.href =
// "/cart") are not rewritten; read the tab prefix from location.pathname
// or use relative URLs there.
//
// Header rewrites the headers in URLHeaders only: a Link header, or a URL
// in a header of the application's own, keeps its bytes. In an
// HX-Location object only the top-level "path" member is a URL.
//
// LocalPath leaves "." and ".." segments alone: "/a/..//x" stays on the
// host, but the browser asks for the path "//x" there. A server that
// redirects to its own request path again passes it through LocalPath
// again, as it did the first time.
//
// Relative URLs ("cart", "../x") need no rewriting: the browser resolves
// them against the page URL, which already carries "/N/".
//
// A browser tab that is duplicated shares its URL, and so its tab number,
// with the original; the server alone cannot tell them apart. The optional
// tabs.js (served by the web package) notices the copy and asks the server
// for a new number; without it, duplicated tabs share a tab.
//
// The rewriter tokenizes without building a document tree, like the html
// package's Tokenizer: <title>, <style> and the like inside <svg> are read
// as raw text, <noscript> is raw text as for a browser with scripting, and
// <![CDATA[...]]> is a bogus comment that ends at the first '>', as in HTML
// (not foreign) content.
package tabs
