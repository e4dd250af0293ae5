//go:build !unix && !windows

package boltstore

var diskFullErrors []error
