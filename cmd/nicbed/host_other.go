//go:build !linux

package main

import (
	"errors"
	"io"
)

// host needs Linux's TAP and AF_PACKET.
func host(f *hostFlags, stdout, stderr io.Writer) error {
	return errors.New("host: needs Linux (TAP and AF_PACKET)")
}
