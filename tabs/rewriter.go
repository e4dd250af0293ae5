package tabs

import (
	"fmt"
	"log/slog"
	"strings"
)

// Config configures a Rewriter. Zero fields take their defaults.
type Config struct {
	// MaxID is the largest tab ID recognised as a prefix. Default
	// DefaultMaxID. Zero means the default.
	MaxID ID

	// Exempt lists path prefixes whose URLs never get a tab prefix, such as
	// static files shared by every tab. Each entry starts with '/'. An entry
	// ending in '/' matches any URL that starts with it ("/static/" matches
	// "/static/app.css"); any other entry matches itself followed by the end
	// of the path segment ("/healthz" matches "/healthz", "/healthz?x" and
	// "/healthz/x" but not "/healthzz"). Default DefaultConfig.Exempt, that
	// is "/static/". Nil means the default; an empty, non-nil slice exempts
	// nothing.
	Exempt []string

	// Attrs lists extra attribute names whose whole value is a URL, such as
	// "hx-get", "hx-post" or "data-href". They are added to the built-in
	// set (href, src, action, formaction, poster, srcset and the content of
	// <meta http-equiv=refresh>) and compared case-insensitively. An htmx
	// attribute is matched in both spellings htmx reads: listing "hx-get"
	// also rewrites "data-hx-get", and the other way round. Values that
	// are not root-relative URLs, such as hx-push-url="true", stay as they
	// are. An "hx-" name may be at most 58 bytes long, so that its "data-"
	// spelling fits the limit of 63. Default none.
	Attrs []string

	// MaxTagBytes caps the bytes buffered for one tag that arrives split
	// across Write calls. A tag longer than this is not rewritten: it and
	// the rest of the response pass through unmodified (never truncated)
	// and a warning is logged. Default 64 KiB. Zero means the default.
	MaxTagBytes int

	// Logger receives the warning about an oversized tag. Default
	// slog.Default() at the time of logging. Nil means the default.
	Logger *slog.Logger
}

// maxMaxTagBytes bounds Config.MaxTagBytes so that positions inside a tag
// fit in 32 bits.
const maxMaxTagBytes = 1 << 30

// DefaultConfig holds the defaults that New fills into zero fields.
var DefaultConfig = Config{
	MaxID:       DefaultMaxID,
	Exempt:      []string{"/static/"},
	MaxTagBytes: 64 << 10,
}

// Rewriter puts tab prefixes into URLs: one at a time with URL, or inside a
// streamed HTML response with NewWriter. It is immutable after New and safe
// for concurrent use.
type Rewriter struct {
	maxID       ID
	exempt      []string
	attrs       attrTable
	maxTagBytes int
	logger      *slog.Logger
	// plainSecond[c] is true when a URL starting with '/' and then c is
	// certainly root-relative, not prefixed and not exempt: c is not '/',
	// '\\', white space, a control, a digit or the '&' of a character
	// reference, and no exempt entry starts with '/' and c. It settles most
	// URLs after two bytes, raw or decoded.
	plainSecond [256]bool
}

// New checks cfg, fills its zero fields from DefaultConfig and returns a
// Rewriter.
func New(cfg Config) (*Rewriter, error) {
	r := &Rewriter{
		maxID:       cfg.MaxID,
		maxTagBytes: cfg.MaxTagBytes,
		logger:      cfg.Logger,
	}
	if r.maxID == 0 {
		r.maxID = DefaultConfig.MaxID
	}
	switch {
	case r.maxTagBytes == 0:
		r.maxTagBytes = DefaultConfig.MaxTagBytes
	case r.maxTagBytes < 0 || r.maxTagBytes > maxMaxTagBytes:
		return nil, fmt.Errorf("tabs: MaxTagBytes %d is not between 0 and %d", cfg.MaxTagBytes, maxMaxTagBytes)
	}
	exempt := cfg.Exempt
	if exempt == nil {
		exempt = DefaultConfig.Exempt
	}
	for _, e := range exempt {
		if !strings.HasPrefix(e, "/") {
			return nil, fmt.Errorf("tabs: exempt prefix %q does not start with '/'", e)
		}
	}
	r.exempt = append([]string(nil), exempt...)
	r.plainSecond = plainSecondBytes(r.exempt)
	attrs, err := newAttrTable(cfg.Attrs)
	if err != nil {
		return nil, err
	}
	r.attrs = attrs
	return r, nil
}

// Parse splits a canonical tab prefix up to the configured MaxID off path;
// see the package function Parse.
func (r *Rewriter) Parse(path string) (ID, string, bool) {
	return ParseMax(path, r.maxID)
}

// SplitPrefix is the package function SplitPrefix with the configured
// MaxID.
func (r *Rewriter) SplitPrefix(path string) (id ID, prefixLen int, ok bool) {
	return parsePrefix(path, r.maxID)
}

// IsExempt reports whether path falls under one of the exempt prefixes.
func (r *Rewriter) IsExempt(path string) bool {
	return r.isExempt(path, 0, len(path))
}

func (r *Rewriter) isExempt(path string, start, end int) bool {
	for _, e := range r.exempt {
		if matchesExempt(path, start, end, e) {
			return true
		}
	}
	return false
}

// URL returns the URL that tab id should use for u: Prefix(id, u), unless u
// is exempt, not root-relative, or already prefixed, in which case u itself.
// It is meant for templates and handlers; for a response header, Header
// knows where in the value the URL is.
func (r *Rewriter) URL(id ID, u string) string {
	at, ok := prefixPosition(r, u)
	if !ok {
		return u
	}
	return insertPrefix(u, at, id)
}

func plainSecondBytes(exempt []string) (plain [256]bool) {
	for c := '!'; c < 256; c++ {
		plain[c] = c != '/' && c != '\\' && c != '&' && !isDigit(byte(c))
	}
	for _, e := range exempt {
		if len(e) == 1 {
			return [256]bool{}
		}
		plain[e[1]] = false
	}
	return plain
}

// prefixPosition reports whether the URL u should get a tab prefix and at
// which index it goes.
func prefixPosition[T string | []byte](r *Rewriter, u T) (int, bool) {
	if len(u) >= 2 && u[0] == '/' && r.plainSecond[u[1]] {
		return 0, true
	}
	start, end, ok := rootRelative(u)
	if !ok || hasTabPrefix(u, start, end, r.maxID) {
		return 0, false
	}
	for _, e := range r.exempt {
		if matchesExempt(u, start, end, e) {
			return 0, false
		}
	}
	return start, true
}

// warn logs through the configured logger, or the default one.
func (r *Rewriter) warn(msg string, args ...any) {
	l := r.logger
	if l == nil {
		l = slog.Default()
	}
	l.Warn(msg, args...)
}
