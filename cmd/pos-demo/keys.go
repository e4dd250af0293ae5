package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
)

// minKeyBytes is the shortest signing key the kit accepts.
const minKeyBytes = 32

// signingKeys reads the keys that sign session cookies: from the file
// -signing-keys-file names (one hex key a line, newest first; blank lines
// and lines starting with # are skipped), else from envKeys (hex keys
// separated by commas). No keys means unsigned cookies.
func signingKeys(file, envKeys string) ([][]byte, error) {
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("signing keys: %w", err)
		}
		var lines []string
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		return parseKeys(lines, file)
	}
	if envKeys == "" {
		return nil, nil
	}
	return parseKeys(strings.Split(envKeys, ","), "TABKIT_SIGNING_KEYS")
}

func parseKeys(entries []string, source string) ([][]byte, error) {
	var keys [][]byte
	for i, entry := range entries {
		entry = strings.TrimSpace(entry)
		if entry == "" || strings.HasPrefix(entry, "#") {
			continue
		}
		key, err := hex.DecodeString(entry)
		if err != nil {
			// The key itself is never printed.
			return nil, fmt.Errorf("signing keys: %s, entry %d: not hex", source, i+1)
		}
		if len(key) < minKeyBytes {
			return nil, fmt.Errorf("signing keys: %s, entry %d: %d bytes, need at least %d (%d hex digits)",
				source, i+1, len(key), minKeyBytes, 2*minKeyBytes)
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("signing keys: %s holds no key", source)
	}
	return keys, nil
}
