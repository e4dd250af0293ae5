package tabs

import (
	"encoding/json"
	"io"
	"strings"
)

// This file puts the tab prefix into the URLs of response headers, where
// a redirect or an htmx instruction would otherwise take a tab out of its
// lane. The rule for each URL is the one of Rewriter.URL.

// headerKind says where the URL is in a header's value.
type headerKind uint8

const (
	headerURL        headerKind = iota + 1 // the whole value is one URL
	headerRefresh                          // "5; url=/x", as <meta http-equiv=refresh>
	headerHXLocation                       // a URL, or a JSON object with a "path" member
)

// urlHeaders lists the response headers that Header rewrites.
var urlHeaders = [...]struct {
	name string
	kind headerKind
}{
	{"Location", headerURL},
	{"Content-Location", headerURL},
	{"Refresh", headerRefresh},
	{"Hx-Location", headerHXLocation},
	{"Hx-Redirect", headerURL},
	{"Hx-Push-Url", headerURL},
	{"Hx-Replace-Url", headerURL},
}

// URLHeaders returns the canonical names of the response headers whose
// values Rewriter.Header rewrites: Location, Content-Location, Refresh,
// Hx-Location, Hx-Redirect, Hx-Push-Url and Hx-Replace-Url. The slice is
// new on every call; changing it changes nothing.
func URLHeaders() []string {
	names := make([]string, len(urlHeaders))
	for i, h := range urlHeaders {
		names[i] = h.name
	}
	return names
}

// Header returns value, the value of the response header name, as tab id
// should send it: with the tab prefix put into the URL it holds, by the
// rule of URL (exempt paths, other hosts, URLs with a scheme and URLs that
// already carry a tab prefix stay as they are). The name is compared
// case-insensitively with URLHeaders; any other header is returned
// unchanged. Where the URL is depends on the header:
//
//   - Location, Content-Location, Hx-Redirect: the whole value.
//   - Hx-Push-Url, Hx-Replace-Url: the whole value; "true" and "false"
//     are not URLs and stay as they are.
//   - Refresh: the URL after the delay, as in "5; url=/x" or
//     "0;URL='/x'", read the way browsers read <meta http-equiv=refresh>;
//     a delay alone ("5") stays as it is.
//   - Hx-Location: the whole value, or, when it starts with '{' as htmx
//     checks, the string member "path" of the JSON object, as in
//     {"path":"/x","target":"#main"}. Only that member's value changes;
//     every other byte stays as it was, and a value that is not valid
//     JSON stays as it is, since htmx cannot use it either.
//
// Header does not make a URL safe to redirect to: "//evil.example" stays
// what it is. A redirect built from a request path goes through LocalPath
// first.
func (r *Rewriter) Header(id ID, name, value string) string {
	switch headerKindOf(name) {
	case headerURL:
		return r.URL(id, value)
	case headerRefresh:
		return r.refreshHeader(id, value)
	case headerHXLocation:
		if strings.HasPrefix(strings.TrimLeft(value, " \t"), "{") {
			return r.hxLocationJSON(id, value)
		}
		return r.URL(id, value)
	}
	return value
}

func headerKindOf(name string) headerKind {
	for _, h := range urlHeaders {
		if len(name) == len(h.name) && strings.EqualFold(name, h.name) {
			return h.kind
		}
	}
	return 0
}

// refreshHeader prefixes the URL in the Refresh header value v.
func (r *Rewriter) refreshHeader(id ID, v string) string {
	start, end, ok := refreshURL(v)
	if !ok {
		return v
	}
	at, ok := prefixPosition(r, v[start:end])
	if !ok {
		return v
	}
	return insertPrefix(v, start+at, id)
}

// hxLocationJSON prefixes the URL in the "path" member of the JSON object
// v. Every top-level "path" holding a string is rewritten: a browser's
// JSON.parse keeps the last of duplicate members, and rewriting them all
// cannot be wrong about which.
func (r *Rewriter) hxLocationJSON(id ID, v string) string {
	if !json.Valid([]byte(v)) {
		return v
	}
	spans, ok := jsonPathMembers(v)
	if !ok || len(spans) == 0 {
		return v
	}
	var b strings.Builder
	prev := 0
	for _, sp := range spans {
		raw := v[sp.start:sp.end]
		var path string
		if json.Unmarshal([]byte(raw), &path) != nil {
			return v
		}
		at, ok := prefixPosition(r, path)
		if !ok {
			continue
		}
		b.WriteString(v[prev:sp.start])
		if len(raw) > at+1 && raw[1:at+2] == path[:at+1] {
			// Up to the '/' that the prefix goes before, the raw
			// string has no escapes: the prefix goes right in, and
			// the author's spelling of the rest stays.
			b.WriteString(raw[:at+1])
			b.Write(appendID(nil, id))
			b.WriteString(raw[at+1:])
		} else {
			encoded, err := json.Marshal(insertPrefix(path, at, id))
			if err != nil {
				return v
			}
			b.Write(encoded)
		}
		prev = sp.end
	}
	if prev == 0 {
		return v
	}
	b.WriteString(v[prev:])
	return b.String()
}

// jsonPathMembers returns the spans of the string values of the "path"
// members of the JSON object v, which must be valid JSON. It reports
// false when v is not an object.
func jsonPathMembers(v string) ([]span, bool) {
	dec := json.NewDecoder(strings.NewReader(v))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var spans []span
	// depth counts the open objects and arrays; the members of interest
	// are at depth 1, where keys and values alternate.
	depth, wantKey, key, keyEnd := 1, true, "", 0
	for depth > 0 {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, false
		}
		switch t := tok.(type) {
		case json.Delim:
			if t == '{' || t == '[' {
				depth++
				continue
			}
			depth--
			wantKey = depth == 1
		case string:
			switch {
			case depth > 1:
			case wantKey:
				key, keyEnd, wantKey = t, int(dec.InputOffset()), false
			default:
				if key == "path" {
					end := int(dec.InputOffset())
					start := strings.IndexByte(v[keyEnd:end], '"')
					if start < 0 || v[end-1] != '"' {
						return nil, false
					}
					spans = append(spans, span{keyEnd + start, end})
				}
				wantKey = true
			}
		default:
			wantKey = depth == 1
		}
	}
	return spans, true
}
