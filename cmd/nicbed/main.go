// Command nicbed runs the nicbed testbed: modelled hosts with Intel NIC
// models, their drivers and a kernel model of Linux's receive and transmit
// paths.
//
// Usage:
//
//	nicbed <command> [flags]
//
// Commands:
//
//	demo    two hosts on a cable; pktgen on one, counters of both
//	host    one host on a TAP or AF_PACKET port, Linux as its peer
//	help    this text, or a command's flags (nicbed help demo)
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"demo", "two modelled hosts on a cable: pktgen on A, counters of both", runDemo},
	{"host", "one modelled host on a TAP or AF_PACKET port: Linux is its peer", runHost},
	{"vm", "boot QEMU with its e1000 or igb, driven by nicbed through VFIO; the guest kernel is the peer", runVM},
	{"guest", "(inside the VM) the image's init program: peer, VFIO NIC, checks", runGuest},
}

const usage = `nicbed: a testbed for the Linux network data path.

Usage:
  nicbed <command> [flags]

Commands:
%s  help    show this text, or a command's flags: nicbed help <command>

Run 'nicbed <command> --help' for a command's flags.
`

func printUsage(w io.Writer) {
	var list string
	for _, c := range commands {
		list += fmt.Sprintf("  %-7s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, usage, list)
}

// errUsage marks an error in the command line: exit status 2.
var errUsage = errors.New("usage")

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printUsage(stderr)
		return 2
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "--help", "-help":
		if len(rest) > 0 && rest[0] != "" {
			for _, c := range commands {
				if c.name == rest[0] {
					return exit(c.run([]string{"--help"}, stdout, stdout), stderr)
				}
			}
			fmt.Fprintf(stderr, "nicbed: unknown command %q\n", rest[0])
			return 2
		}
		printUsage(stdout)
		return 0
	}
	for _, c := range commands {
		if c.name == name {
			return exit(c.run(rest, stdout, stderr), stderr)
		}
	}
	fmt.Fprintf(stderr, "nicbed: unknown command %q\n\n", name)
	printUsage(stderr)
	return 2
}

func exit(err error, stderr io.Writer) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	fmt.Fprintf(stderr, "nicbed: %v\n", err)
	return 1
}

// flagSet is a command's flag set with where its help goes: --help prints
// the description and flags on stdout (exit 0), a usage error prints the
// problem and the flags on stderr (exit 2).
type flagSet struct {
	*flag.FlagSet
	synopsis, description string
	stdout, stderr        io.Writer
}

// newFlagSet makes a command's flag set: errors are returned, not fatal.
func newFlagSet(name, synopsis, description string, stdout, stderr io.Writer) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), synopsis: synopsis, description: description, stdout: stdout, stderr: stderr}
	fs.SetOutput(stderr)
	fs.Usage = func() {} // parse prints the usage, to the right place
	return fs
}

// usage prints the command's description and flags to w.
func (fs *flagSet) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: nicbed %s %s\n\n%s\n\nFlags:\n", fs.Name(), fs.synopsis, fs.description)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(fs.stderr)
}

// parse parses args. --help prints the usage on stdout and returns
// flag.ErrHelp; a flag error (which the flag package has printed on stderr)
// or a stray argument prints the usage on stderr and returns errUsage.
func parse(fs *flagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.usage(fs.stdout)
			return err
		}
		fs.usage(fs.stderr)
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.stderr, "nicbed %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.usage(fs.stderr)
		return errUsage
	}
	return nil
}
