package boltstore

import (
	"errors"
	"strings"
)

// isDiskFull reports whether err says the disk or the user's quota is
// full. bbolt wraps some file errors with %s rather than %w (growing the
// file), so the system's message is looked for as well.
func isDiskFull(err error) bool {
	for _, errno := range diskFullErrors {
		if errors.Is(err, errno) || strings.Contains(err.Error(), errno.Error()) {
			return true
		}
	}
	return false
}
