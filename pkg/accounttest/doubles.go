package accounttest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/password"
)

// Mailer records the mails it is asked to send. Set Fail to make every send fail.
type Mailer struct {
	mu    sync.Mutex
	OTPs  []account.OTPMail
	Reset []account.ResetMail
	// Verifications and Notices are the email verification mails and email change notices.
	Verifications []account.VerifyMail
	Notices       []account.EmailChangeNotice
	Fail          error
}

var _ account.Mailer = (*Mailer)(nil)

func (m *Mailer) SendOTP(_ context.Context, msg account.OTPMail) error {
	return send(m, &m.OTPs, msg)
}

func (m *Mailer) SendResetToken(_ context.Context, msg account.ResetMail) error {
	return send(m, &m.Reset, msg)
}

func (m *Mailer) SendVerification(_ context.Context, msg account.VerifyMail) error {
	return send(m, &m.Verifications, msg)
}

func (m *Mailer) SendEmailChangeNotice(_ context.Context, msg account.EmailChangeNotice) error {
	return send(m, &m.Notices, msg)
}

// LastVerification returns the newest verification mail.
func (m *Mailer) LastVerification() (account.VerifyMail, error) {
	return last(m, &m.Verifications, "no verification mail sent")
}

// LastOTP returns the newest OTP mail.
func (m *Mailer) LastOTP() (account.OTPMail, error) { return last(m, &m.OTPs, "no OTP mail sent") }

// LastReset returns the newest reset mail.
func (m *Mailer) LastReset() (account.ResetMail, error) {
	return last(m, &m.Reset, "no reset mail sent")
}

// send records msg in the mailer's list sent, unless sends are to fail.
func send[T any](m *Mailer, sent *[]T, msg T) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		return m.Fail
	}
	*sent = append(*sent, msg)
	return nil
}

// last returns the newest mail of the mailer's list sent (none is an error).
func last[T any](m *Mailer, sent *[]T, none string) (T, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(*sent) == 0 {
		var zero T
		return zero, errors.New(none)
	}
	return (*sent)[len(*sent)-1], nil
}

// Hasher is the real argon2id hasher at tiny cost parameters, counting its work so tests
// can assert how many password checks happened.
type Hasher struct {
	h        *password.Hasher
	Hashes   atomic.Int64
	Verifies atomic.Int64 // real and dummy verifications
	Dummies  atomic.Int64
}

// NewHasher returns a fast Hasher for tests.
func NewHasher() *Hasher {
	h, err := password.New(password.Params{MemoryKiB: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	if err != nil {
		panic(err)
	}
	return &Hasher{h: h}
}

var _ account.Hasher = (*Hasher)(nil)

func (h *Hasher) Hash(pw string) (string, error) {
	h.Hashes.Add(1)
	return h.h.Hash(pw)
}

func (h *Hasher) Verify(hash, pw string) (bool, bool, error) {
	h.Verifies.Add(1)
	return h.h.Verify(hash, pw)
}

func (h *Hasher) VerifyDummy(pw string) {
	h.Verifies.Add(1)
	h.Dummies.Add(1)
	h.h.VerifyDummy(pw)
}
