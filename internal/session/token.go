package session

import (
	"crypto/rand"
	"encoding/base64"

	"github.com/tabkit/tabkit/store"
)

const (
	// tokenBytes of crypto randomness make a token: 256 bits, far past
	// the 122 of a UUIDv4, so guessing one is hopeless.
	tokenBytes = 32
	// TokenLength is the length of a token in unpadded base64url.
	TokenLength = 43
)

// NewToken returns a fresh token.
func NewToken() string {
	var b [tokenBytes]byte
	// crypto/rand.Read never fails on supported platforms (it panics if
	// the kernel's source is broken, which no caller could handle).
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// successor returns the token a session with token old is regenerated
// to: the same family prefix, every other byte fresh.
func successor(old string) string {
	fresh := NewToken()
	if len(old) < store.FamilyPrefix {
		return fresh
	}
	return old[:store.FamilyPrefix] + fresh[store.FamilyPrefix:]
}

// ValidToken reports whether t has the shape NewToken produces, so a
// cookie cannot make the store look up arbitrary keys.
func ValidToken(t string) bool {
	if len(t) != TokenLength {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
