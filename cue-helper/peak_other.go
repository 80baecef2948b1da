//go:build !unix

package main

// peakRSSKiB is unknown here (WebAssembly, Windows): the `stats` op answers 0.
func peakRSSKiB() int64 { return 0 }
