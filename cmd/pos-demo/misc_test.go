package main

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tabkit/tabkit/kit"
	"github.com/tabkit/tabkit/tabs"
)

func tabID(n uint32) tabs.ID { return tabs.ID(n) }

func tabInfos(ids ...uint32) []kit.TabInfo {
	var list []kit.TabInfo
	for _, id := range ids {
		list = append(list, kit.TabInfo{ID: tabs.ID(id)})
	}
	return list
}

func TestFormatCents(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "$0.00"},
		{5, "$0.05"},
		{260, "$2.60"},
		{123456, "$1,234.56"},
		{100000000, "$1,000,000.00"},
		{-250, "-$2.50"},
	}
	for _, tt := range tests {
		if got := formatCents(tt.in); got != tt.want {
			t.Errorf("formatCents(%d): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLocalPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/3/sales", "/3/sales"},
		{"/0/?x=1", "/0/?x=1"},
		{"", "/0/"},
		{"sales", "/0/"},
		{"//evil.example", "/0/"},
		{"/\\evil.example", "/0/"},
		{"https://evil.example/", "/0/"},
		{"/\tx", "/0/"},
	}
	for _, tt := range tests {
		if got := localPath(tt.in, "/0/"); got != tt.want {
			t.Errorf("localPath(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCleanLabel(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  Front   desk ", "Front desk"},
		{"a\x00b\nc", "a b c"},
		{strings.Repeat("é", 50), strings.Repeat("é", 40)},
		{"", ""},
	}
	for _, tt := range tests {
		if got := cleanLabel(tt.in, 40); got != tt.want {
			t.Errorf("cleanLabel(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestInitials(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Flat White", "FW"},
		{"Espresso", "E"},
		{"Scone & Jam", "SJ"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := initials(tt.in); got != tt.want {
			t.Errorf("initials(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSigningKeys(t *testing.T) {
	key1 := strings.Repeat("ab", 32)
	key2 := strings.Repeat("cd", 40)
	file := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(file, []byte("# newest first\n"+key1+"\n\n"+key2+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, file, env string
		want            []string
		wantErr         string
	}{
		{"none", "", "", nil, ""},
		{"file", file, "", []string{key1, key2}, ""},
		{"file wins over env", file, key2, []string{key1, key2}, ""},
		{"env", "", key2 + " , " + key1, []string{key2, key1}, ""},
		{"short key", "", "abcd", nil, "need at least 32"},
		{"not hex", "", strings.Repeat("zz", 32), nil, "not hex"},
		{"missing file", filepath.Join(t.TempDir(), "nope"), "", nil, "no such file"},
		{"empty env entry list", "", " , ", nil, "holds no key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := signingKeys(tt.file, tt.env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, k := range keys {
				got = append(got, hex.EncodeToString(k))
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOpenStore(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		spec, wantName, wantErr string
	}{
		{"memory", "memory (lost on exit)", ""},
		{"bolt", "bolt " + filepath.Join(dir, "default.db"), ""},
		{"bolt:" + filepath.Join(dir, "other.db"), "bolt " + filepath.Join(dir, "other.db"), ""},
		{"bolt:", "", "needs a file path"},
		{"mysql://x", "", "want bolt"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			st, name, err := openStore(tt.spec, filepath.Join(dir, "default.db"), defaultLimits, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer closeStore(st)
			if name != tt.wantName {
				t.Errorf("name: got %q, want %q", name, tt.wantName)
			}
		})
	}
}

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"-addr", "127.0.0.1:0", "-pin", "9999", "-secure", "-store", "memory"}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	want := options{addr: "127.0.0.1:0", dbPath: "tabkit.db", store: "memory", pin: "9999", secure: true, limits: defaultLimits}
	if o != want {
		t.Errorf("got %+v, want %+v", o, want)
	}
	if _, err := parseFlags([]string{"extra"}, os.Stderr); err == nil {
		t.Error("a stray argument was accepted")
	}
}
