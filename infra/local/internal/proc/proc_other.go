//go:build unix && !linux

package proc

import "syscall"

func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// PeakRSSMiB is not available outside Linux; it returns 0.
func PeakRSSMiB(pid int) int { return 0 }

func isZombie(pid int) bool { return false }
