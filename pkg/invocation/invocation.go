// Package invocation measures where one Lambda invocation spends its time: DynamoDB round
// trips (count, time, capacity units), password hashing (reported by the family wrapper from the hasher) and sending mail. apigw.Handle starts a
// measurement per request and logs it with the request's line, which is how `make bench`
// counts round trips and tells a handler's own time from the hash and the database.
package invocation

import (
	"context"
	"sync/atomic"
	"time"
)

// Stats of one invocation. Safe for concurrent use.
type Stats struct {
	dynamoCalls atomic.Int64
	dynamoNanos atomic.Int64
	readMilli   atomic.Int64 // capacity units, thousandths
	writeMilli  atomic.Int64
	hashNanos   atomic.Int64
	mailNanos   atomic.Int64
}

type key struct{}

// Start begins measuring an invocation.
func Start(ctx context.Context) (context.Context, *Stats) {
	s := &Stats{}
	return context.WithValue(ctx, key{}, s), s
}

// From returns the measurement of ctx, or nil (whose methods do nothing).
func From(ctx context.Context) *Stats {
	s, _ := ctx.Value(key{}).(*Stats)
	return s
}

// AddDynamoCall records one DynamoDB HTTP round trip.
func (s *Stats) AddDynamoCall() {
	if s == nil {
		return
	}
	s.dynamoCalls.Add(1)
}

// AddDynamoTime records the time of one DynamoDB operation, all of it client-side.
func (s *Stats) AddDynamoTime(d time.Duration) {
	if s == nil {
		return
	}
	s.dynamoNanos.Add(int64(d))
}

// AddCapacity records consumed capacity units.
func (s *Stats) AddCapacity(read, write float64) {
	if s == nil {
		return
	}
	s.readMilli.Add(int64(read*1000 + 0.5))
	s.writeMilli.Add(int64(write*1000 + 0.5))
}

// AddHash records time spent hashing or verifying a password.
func (s *Stats) AddHash(d time.Duration) {
	if s == nil {
		return
	}
	s.hashNanos.Add(int64(d))
}

// AddMail records time spent handing a mail to the mail service.
func (s *Stats) AddMail(d time.Duration) {
	if s == nil {
		return
	}
	s.mailNanos.Add(int64(d))
}

// Snapshot is a Stats read out.
type Snapshot struct {
	DynamoCalls int64
	DynamoTime  time.Duration
	ReadUnits   float64
	WriteUnits  float64
	HashTime    time.Duration
	MailTime    time.Duration
}

// Snapshot reads the counters.
func (s *Stats) Snapshot() Snapshot {
	if s == nil {
		return Snapshot{}
	}
	return Snapshot{
		DynamoCalls: s.dynamoCalls.Load(),
		DynamoTime:  time.Duration(s.dynamoNanos.Load()),
		ReadUnits:   float64(s.readMilli.Load()) / 1000,
		WriteUnits:  float64(s.writeMilli.Load()) / 1000,
		HashTime:    time.Duration(s.hashNanos.Load()),
		MailTime:    time.Duration(s.mailNanos.Load()),
	}
}
