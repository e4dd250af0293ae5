package tabs

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"

	"golang.org/x/net/html"
)

// newTestRewriter returns a Rewriter with cfg, failing the test on error.
func newTestRewriter(t testing.TB, cfg Config) *Rewriter {
	t.Helper()
	r, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return r
}

// rewriteChunks runs chunks through a Writer for tab id, one Write each.
func rewriteChunks(t testing.TB, r *Rewriter, id ID, chunks ...[]byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w := r.NewWriter(&out, id)
	for _, c := range chunks {
		n, err := w.Write(c)
		if err != nil || n != len(c) {
			t.Fatalf("Write: got (%d, %v), want (%d, nil)", n, err, len(c))
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return out.Bytes()
}

// rewrite runs in through a Writer for tab id in one Write.
func rewrite(t testing.TB, r *Rewriter, id ID, in []byte) []byte {
	t.Helper()
	return rewriteChunks(t, r, id, in)
}

// diffTokens checks got, the Writer's rewrite of in, against ref, the
// reference rewrite: all three must tokenize to the same token types; where
// ref copied a token unchanged, got must have copied the same bytes; where
// ref changed a tag, got must tokenize to the same tag.
func diffTokens(in, got, ref []byte) error {
	zi := html.NewTokenizer(bytes.NewReader(in))
	zg := html.NewTokenizer(bytes.NewReader(got))
	zr := html.NewTokenizer(bytes.NewReader(ref))
	for n := 0; ; n++ {
		ti, tg, tr := zi.Next(), zg.Next(), zr.Next()
		rawI := string(zi.Raw())
		rawG := string(zg.Raw())
		rawR := string(zr.Raw())
		if ti != tg || ti != tr {
			return fmt.Errorf("token %d: got type %v (%q), want %v (%q), input has %v (%q)", n, tg, rawG, tr, rawR, ti, rawI)
		}
		if rawR == rawI {
			if rawG != rawI {
				return fmt.Errorf("token %d: got %q, want it unchanged: %q", n, rawG, rawI)
			}
		} else if tokG, tokR := zg.Token(), zr.Token(); !reflect.DeepEqual(tokG, tokR) {
			return fmt.Errorf("token %d: got %q = %+v, want %q = %+v", n, rawG, tokG, rawR, tokR)
		}
		if ti == html.ErrorToken {
			return nil
		}
	}
}

// tokenTypes returns the sequence of token types in b.
func tokenTypes(b []byte) []html.TokenType {
	var types []html.TokenType
	z := html.NewTokenizer(bytes.NewReader(b))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return types
		}
		types = append(types, tt)
	}
}
