package tabs

import "testing"

func TestParse(t *testing.T) {
	tests := []struct {
		path   string
		wantID ID
		want   string
		wantOK bool
	}{
		{"/3/cart", 3, "/cart", true},
		{"/3", 3, "/", true},
		{"/3/", 3, "/", true},
		{"/0/", 0, "/", true},
		{"/0", 0, "/", true},
		{"/17/a/b?c", 17, "/a/b?c", true},
		{"/999999/x", 999999, "/x", true},
		{"/3//x", 3, "//x", true},
		{"/1000000/x", 0, "", false},
		{"/007/", 0, "", false},
		{"/00/", 0, "", false},
		{"/-1/", 0, "", false},
		{"/+1/", 0, "", false},
		{"/1e3/", 0, "", false},
		{"/99999999999999999999/", 0, "", false},
		{"/4294967296/", 0, "", false},
		{"/%31/", 0, "", false},
		{"//3/", 0, "", false},
		{"/ 3/", 0, "", false},
		{"/3 /", 0, "", false},
		{"/3x/", 0, "", false},
		{"/3?x", 0, "", false},
		{"/３/", 0, "", false},
		{"3/cart", 0, "", false},
		{"/", 0, "", false},
		{"", 0, "", false},
		{"/cart", 0, "", false},
		{"/+/cart", 0, "", false},
	}
	for _, tt := range tests {
		id, rest, ok := Parse(tt.path)
		if id != tt.wantID || rest != tt.want || ok != tt.wantOK {
			t.Errorf("Parse(%q): got (%v, %q, %v), want (%v, %q, %v)", tt.path, id, rest, ok, tt.wantID, tt.want, tt.wantOK)
		}
	}
}

func TestParseMax(t *testing.T) {
	tests := []struct {
		path   string
		max    ID
		wantID ID
		wantOK bool
	}{
		{"/9/x", 9, 9, true},
		{"/10/x", 9, 0, false},
		{"/0/x", 0, 0, true},
		{"/1/x", 0, 0, false},
		{"/4294967295/x", 4294967295, 4294967295, true},
		{"/4294967296/x", 4294967295, 0, false},
	}
	for _, tt := range tests {
		if id, _, ok := ParseMax(tt.path, tt.max); id != tt.wantID || ok != tt.wantOK {
			t.Errorf("ParseMax(%q, %d): got (%v, %v), want (%v, %v)", tt.path, tt.max, id, ok, tt.wantID, tt.wantOK)
		}
	}
}

func TestSplitPrefix(t *testing.T) {
	tests := []struct {
		path    string
		max     ID
		wantID  ID
		wantLen int
		wantOK  bool
	}{
		{"/3/cart", DefaultMaxID, 3, 2, true},
		{"/5", DefaultMaxID, 5, 2, true},
		{"/5/", DefaultMaxID, 5, 2, true},
		{"/77", DefaultMaxID, 77, 3, true},
		{"/77/", DefaultMaxID, 77, 3, true},
		{"/77/x", DefaultMaxID, 77, 3, true},
		{"/0", DefaultMaxID, 0, 2, true},
		{"/999999//x", DefaultMaxID, 999999, 7, true},
		{"/4294967295", 4294967295, 4294967295, 11, true},
		{"/10", 9, 0, 0, false},
		{"/1000000", DefaultMaxID, 0, 0, false},
		{"/07", DefaultMaxID, 0, 0, false},
		{"/7x", DefaultMaxID, 0, 0, false},
		{"/7?x", DefaultMaxID, 0, 0, false},
		{"/%37", DefaultMaxID, 0, 0, false},
		{"//7", DefaultMaxID, 0, 0, false},
		{"/", DefaultMaxID, 0, 0, false},
		{"", DefaultMaxID, 0, 0, false},
		{"7", DefaultMaxID, 0, 0, false},
	}
	for _, tt := range tests {
		id, n, ok := SplitPrefix(tt.path, tt.max)
		if id != tt.wantID || n != tt.wantLen || ok != tt.wantOK {
			t.Errorf("SplitPrefix(%q, %d): got (%v, %d, %v), want (%v, %d, %v)", tt.path, tt.max, id, n, ok, tt.wantID, tt.wantLen, tt.wantOK)
		}
		if !ok {
			continue
		}
		// ParseMax keeps its documented rest: what follows the prefix,
		// or "/" when nothing does.
		wantRest := tt.path[n:]
		if wantRest == "" {
			wantRest = "/"
		}
		if pid, rest, pok := ParseMax(tt.path, tt.max); pid != id || rest != wantRest || !pok {
			t.Errorf("ParseMax(%q, %d): got (%v, %q, %v), want (%v, %q, true)", tt.path, tt.max, pid, rest, pok, id, wantRest)
		}
	}
}

func TestRewriterSplitPrefix(t *testing.T) {
	r := newTestRewriter(t, Config{MaxID: 99})
	tests := []struct {
		path    string
		wantID  ID
		wantLen int
		wantOK  bool
	}{
		{"/99", 99, 3, true},
		{"/99/x", 99, 3, true},
		{"/100/x", 0, 0, false},
	}
	for _, tt := range tests {
		if id, n, ok := r.SplitPrefix(tt.path); id != tt.wantID || n != tt.wantLen || ok != tt.wantOK {
			t.Errorf("SplitPrefix(%q): got (%v, %d, %v), want (%v, %d, %v)", tt.path, id, n, ok, tt.wantID, tt.wantLen, tt.wantOK)
		}
	}
}

func TestParseNew(t *testing.T) {
	tests := []struct {
		path   string
		want   string
		wantOK bool
	}{
		{"/+/cart", "/cart", true},
		{"/+", "/", true},
		{"/+/", "/", true},
		{"/+/a/b?c", "/a/b?c", true},
		{"/++/", "", false},
		{"/+x", "", false},
		{"/+1/", "", false},
		{"/%2B/", "", false},
		{"/3/cart", "", false},
		{"+/cart", "", false},
		{"/", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if rest, ok := ParseNew(tt.path); rest != tt.want || ok != tt.wantOK {
			t.Errorf("ParseNew(%q): got (%q, %v), want (%q, %v)", tt.path, rest, ok, tt.want, tt.wantOK)
		}
	}
}

func TestHasNumericFirstSegment(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"/123/x", true},
		{"/0", true},
		{"/007", true},
		{"/1000000/x", true},
		{"123", true},
		{"/:id", false},
		{"/*", false},
		{"/1a/x", false},
		{"/cart/1", false},
		{"/", false},
		{"", false},
		{"//1", false},
		{"/+/x", false},
	}
	for _, tt := range tests {
		if got := HasNumericFirstSegment(tt.path); got != tt.want {
			t.Errorf("HasNumericFirstSegment(%q): got %v, want %v", tt.path, got, tt.want)
		}
	}
}

func TestIDString(t *testing.T) {
	tests := []struct {
		id   ID
		want string
	}{
		{0, "0"},
		{7, "7"},
		{999999, "999999"},
		{4294967295, "4294967295"},
	}
	for _, tt := range tests {
		if got := tt.id.String(); got != tt.want {
			t.Errorf("ID(%d).String(): got %q, want %q", uint32(tt.id), got, tt.want)
		}
	}
}
