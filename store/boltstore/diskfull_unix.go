//go:build unix

package boltstore

import "syscall"

var diskFullErrors = []error{syscall.ENOSPC, syscall.EDQUOT}
