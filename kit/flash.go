package kit

import (
	"encoding/binary"
	"errors"
)

// A flash list is stored as a run of items, each its length as a uvarint
// followed by its encoded value, so adding one is an append.

func appendFlash(list, item []byte) []byte {
	list = binary.AppendUvarint(list, uint64(len(item)))
	return append(list, item...)
}

var errFlashList = errors.New("malformed flash list")

func splitFlashes(list []byte) ([][]byte, error) {
	var items [][]byte
	for len(list) > 0 {
		n, used := binary.Uvarint(list)
		if used <= 0 || n > uint64(len(list)-used) {
			return nil, errFlashList
		}
		list = list[used:]
		items = append(items, list[:n:n])
		list = list[n:]
	}
	return items, nil
}
