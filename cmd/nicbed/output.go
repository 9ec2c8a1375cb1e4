package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/nicbed/nicbed/hw/wire"
	"github.com/nicbed/nicbed/kernelmodel"
)

// createPcap creates file (--pcap) and a libpcap writer on it. done
// flushes and closes the file and returns the first error of the writer,
// the flush or the close.
func createPcap(file string) (pw *wire.PcapWriter, done func() error, err error) {
	pf, err := os.Create(file)
	if err != nil {
		return nil, nil, err
	}
	bw := bufio.NewWriterSize(pf, 1<<20)
	if pw, err = wire.NewPcapWriter(bw); err != nil {
		pf.Close()
		return nil, nil, err
	}
	return pw, func() error {
		err := errors.Join(bw.Flush(), pf.Close())
		if e := pw.Err(); e != nil {
			err = fmt.Errorf("pcap: %w", e)
		}
		return err
	}, nil
}

// createTracer creates file (--trace) and a tracer writing Perfetto JSON
// to it, or text lines if its name ends in .txt. done finishes the trace
// and closes the file.
func createTracer(file string) (tr *kernelmodel.Tracer, done func() error, err error) {
	tf, err := os.Create(file)
	if err != nil {
		return nil, nil, err
	}
	if strings.HasSuffix(file, ".txt") {
		tr = kernelmodel.NewTracer(tf, nil)
	} else {
		tr = kernelmodel.NewTracer(nil, tf)
	}
	return tr, func() error { return errors.Join(tr.Close(), tf.Close()) }, nil
}
