package kittest

import (
	"encoding/binary"
	"errors"

	"github.com/tabkit/tabkit/store"
	"github.com/tabkit/tabkit/tabs"
)

// The model checks the store itself after every step, so it reads what
// the kit writes there: these mirror the kit's private layout (kit's
// session.go and tab.go), and a change there shows here as a failing
// check.

// noticesKey holds the kit's notices for tabs, as JSON.
var noticesKey = store.SessionKey("\x00notices")

// notice is one of the kit's notices waiting for a tab.
type notice struct {
	Tab     tabs.ID `json:"t"`
	Message string  `json:"m"`
}

// flashPrefix starts the name of a key holding a flash list.
const flashPrefix = "\x00flash:"

// splitFlashes splits a flash list: items, each its length as a uvarint
// followed by its encoded value.
func splitFlashes(list []byte) ([][]byte, error) {
	var items [][]byte
	for len(list) > 0 {
		n, used := binary.Uvarint(list)
		if used <= 0 || n > uint64(len(list)-used) {
			return nil, errors.New("malformed flash list")
		}
		list = list[used:]
		items = append(items, list[:n:n])
		list = list[n:]
	}
	return items, nil
}
