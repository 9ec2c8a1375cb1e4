//go:build !linux

package main

import (
	"errors"
	"io"
)

func guest(*guestFlags, io.Writer, io.Writer) error {
	return errors.New("guest: runs only in nicbed's Linux guest")
}
