//go:build unix

package main

import (
	"runtime"
	"syscall"
)

// peakRSSKiB is the process's peak resident memory (getrusage), for the `stats` op.
func peakRSSKiB() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return int64(ru.Maxrss) / 1024 // bytes there, KiB elsewhere
	}
	return int64(ru.Maxrss)
}
