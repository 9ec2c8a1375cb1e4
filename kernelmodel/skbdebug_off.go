//go:build !nicbed_debug

package kernelmodel

// skbDebugPanic: without the build tag nicbed_debug an skb lifetime error is
// counted (Kernel.Drops.SKB) and traced, and the kernel goes on.
const skbDebugPanic = false
