package lambdart

import "time"

// Stats is a snapshot of a function's activity, for benchmarks and tests.
type Stats struct {
	Function string
	// Running is the number of live instances; PIDs are their process IDs.
	Running int
	PIDs    []int
	// Invocations counts finished invocations; Errors those that failed (including
	// timeouts), Timeouts those that timed out.
	Invocations int64
	Errors      int64
	Timeouts    int64
	// ColdStarts has one entry per instance that finished init, in order.
	ColdStarts []ColdStart
}

// ColdStart records one instance's init: process start to its first /next.
type ColdStart struct {
	PID          int
	Started      time.Time
	InitDuration time.Duration
}

// Stats returns a snapshot of the function's counters and cold starts.
func (f *Function) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.stats
	s.ColdStarts = append([]ColdStart(nil), f.stats.ColdStarts...)
	s.Running = len(f.instances)
	s.PIDs = make([]int, 0, len(f.instances))
	for in := range f.instances {
		s.PIDs = append(s.PIDs, in.cmd.Process.Pid)
	}
	return s
}
