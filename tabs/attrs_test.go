package tabs

import "testing"

func TestLowerASCIIWord(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := byte(c)
		if 'A' <= c && c <= 'Z' {
			want += 'a' - 'A'
		}
		x := uint64(c)<<56 | uint64(c)<<8 | uint64(c)
		wantWord := uint64(want)<<56 | uint64(want)<<8 | uint64(want)
		if got := lowerASCIIWord(x); got != wantWord {
			t.Errorf("lowerASCIIWord(%#x): got %#x, want %#x", x, got, wantWord)
		}
	}
}

func TestAttrTableLookup(t *testing.T) {
	table, err := newAttrTable([]string{"hx-get", "Data-Href-Long-Name"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key  string
		want string
	}{
		{"href", "href"},
		{"HREF", "href"},
		{"hx-GET", "hx-get"},
		{"data-href-long-name", "data-href-long-name"},
		{"data-hx-get", "data-hx-get"},
		{"DATA-HX-GET", "data-hx-get"},
		{"data-hx-post", ""},
		{"data-href", ""},
		{"hrefs", ""},
		{"hre", ""},
		{"hr\x00f", ""},
		{"class", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got := ""
		if i := table.lookup([]byte(tt.key)); i >= 0 {
			got = table.names[i]
		}
		if got != tt.want {
			t.Errorf("lookup(%q): got %q, want %q", tt.key, got, tt.want)
		}
		if len(tt.key) > 8 {
			continue
		}
		var word [8]byte
		copy(word[:], tt.key)
		x := uint64(word[0]) | uint64(word[1])<<8 | uint64(word[2])<<16 | uint64(word[3])<<24 |
			uint64(word[4])<<32 | uint64(word[5])<<40 | uint64(word[6])<<48 | uint64(word[7])<<56
		if len(tt.key) < 8 {
			x |= 0xff << 56 // a byte after the key, which must not matter
		}
		got = ""
		if i := table.lookupWord(x, len(tt.key)); i >= 0 {
			got = table.names[i]
		}
		if got != tt.want {
			t.Errorf("lookupWord(%q): got %q, want %q", tt.key, got, tt.want)
		}
	}
}
