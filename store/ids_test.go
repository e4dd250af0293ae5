package store_test

import (
	"strings"
	"testing"

	"github.com/tabkit/tabkit/store"
)

func TestHashToken(t *testing.T) {
	const token = "Ab3_-xYZ0123456789abcdefghijklmnopqrstuvwxy"
	id := store.HashToken(token)
	tests := []struct {
		name string
		got  bool
	}{
		{"deterministic", store.HashToken(token) == id},
		{"never the token", !strings.Contains(id, token) && !strings.Contains(id, token[store.FamilyPrefix:])},
		{"fits a store", store.CheckID(id) == nil},
		{"other token, other ID", store.HashToken(token[:42]+"z") != id},
		{"same first bytes, same family", store.Family(store.HashToken(token[:store.FamilyPrefix]+"other")) == store.Family(id)},
		{"other first bytes, other family", store.Family(store.HashToken("z"+token[1:])) != store.Family(id)},
		{"family is a part of the ID", strings.HasPrefix(id, store.Family(id)+".")},
		{"family of a plain ID is the ID", store.Family("plain") == "plain"},
		{"short token", store.HashToken("ab") != "" && store.Family(store.HashToken("ab")) != ""},
	}
	for _, tt := range tests {
		if !tt.got {
			t.Errorf("%s: got false, want true (id %q)", tt.name, id)
		}
	}
}
