package store

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// A browser proves who it is with a token, the secret its cookie carries.
// A store never sees that token: it keys the session by HashToken(token),
// so whoever reads the store (a copied file, a Redis SCAN or MONITOR, a
// backup, an admin listing, a log line) learns nothing that works as a
// cookie. A token has 256 random bits, so a plain SHA-256 cannot be
// reversed by guessing.
//
// An ID has two parts, "family.hash". The family is derived from the first
// FamilyPrefix bytes of the token only; a session regenerated to a new
// token keeps those bytes (and so its family) while every other byte is
// fresh. Stores that shard by key (Redis Cluster) shard by family, so a
// Move from the old ID to the new one stays inside one shard.

// FamilyPrefix is how many leading bytes of a token its ID's family is
// derived from. A regenerated token keeps them; the rest of a kit token
// (37 base64url characters, 222 bits) is new.
const FamilyPrefix = 6

// familyLength is the length of the family tag in an ID: four base64url
// characters, 24 bits, plenty to spread sessions over 16384 hash slots.
const familyLength = 4

// HashToken returns the ID under which stores keep the session whose
// cookie carries token.
func HashToken(token string) string {
	var sum [sha256.Size]byte
	if len(token) <= 64 {
		var buf [64]byte // the usual token, hashed without an allocation
		sum = sha256.Sum256(buf[:copy(buf[:], token)])
	} else {
		sum = sha256.Sum256([]byte(token))
	}
	fam := family(token[:min(len(token), FamilyPrefix)])
	var b [familyLength + 1 + 43]byte
	base64.RawURLEncoding.Encode(b[:familyLength], fam[:])
	b[familyLength] = '.'
	base64.RawURLEncoding.Encode(b[familyLength+1:], sum[:])
	return string(b[:])
}

// family hashes a token's first bytes into the three bytes of its family
// tag (FNV-1a). It needs no strength: it keeps only 24 bits of what it
// reads, which is no more than the tag shows anyway, and the rest of the
// token is secret.
func family(prefix string) [3]byte {
	h := uint32(2166136261)
	for i := 0; i < len(prefix); i++ {
		h ^= uint32(prefix[i])
		h *= 16777619
	}
	return [3]byte{byte(h >> 16), byte(h >> 8), byte(h)}
}

// Family returns the family tag of id: the part before its first '.', or
// all of id when it has none (IDs not made by HashToken).
func Family(id string) string {
	if i := strings.IndexByte(id, '.'); i >= 0 {
		return id[:i]
	}
	return id
}
