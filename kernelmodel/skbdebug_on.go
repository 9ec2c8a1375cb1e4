//go:build nicbed_debug

package kernelmodel

// skbDebugPanic: built with the tag nicbed_debug, an skb lifetime error
// (double free, use after free) panics with an *SKBError at the faulty call.
const skbDebugPanic = true
