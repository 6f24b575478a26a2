// Package proc holds the process handling shared by the local stack's emulators and Lambda
// runtime: every child runs in its own process group, so a signal reaches the whole tree
// (a JVM, a node server, a function that forks) and the terminal's Ctrl-C does not hit the
// children before the stack can shut them down in order.
package proc

import (
	"errors"
	"os/exec"
	"syscall"
	"time"
)

// Prepare sets cmd up to run in its own process group and, where the OS supports it, to
// be killed if this process dies without cleaning up (a backstop, not the normal path).
func Prepare(cmd *exec.Cmd) {
	cmd.SysProcAttr = sysProcAttr()
}

// Signal sends sig to cmd's process group.
func Signal(cmd *exec.Cmd, sig syscall.Signal) error {
	if cmd.Process == nil {
		return errors.New("process not started")
	}
	err := syscall.Kill(-cmd.Process.Pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil // already gone
	}
	return err
}

// Terminate sends SIGTERM to cmd's process group and, if exited is not closed within
// grace, SIGKILL; it returns once exited is closed. exited must be closed by whoever
// calls cmd.Wait.
func Terminate(cmd *exec.Cmd, exited <-chan struct{}, grace time.Duration) {
	_ = Signal(cmd, syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-exited:
		// The leader is gone; make sure nothing it forked lingers in the group.
		_ = Signal(cmd, syscall.SIGKILL)
		return
	case <-t.C:
	}
	_ = Signal(cmd, syscall.SIGKILL)
	<-exited
}

// Alive reports whether a process with this PID exists (and is not a zombie).
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	return !isZombie(pid)
}
