package web

import (
	"io/fs"
	"strings"
	"testing"
)

func TestStaticHoldsTheAssets(t *testing.T) {
	tests := []struct {
		name     string
		contains string
	}{
		{"app.css", "--accent"},
		{"tabs.js", "_tabkit/fork"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := fs.ReadFile(Static, tt.name)
			if err != nil {
				t.Fatalf("ReadFile(%q): %v", tt.name, err)
			}
			if !strings.Contains(string(b), tt.contains) {
				t.Errorf("%s does not contain %q", tt.name, tt.contains)
			}
		})
	}
}
