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
	Fail  error
}

var _ account.Mailer = (*Mailer)(nil)

func (m *Mailer) SendOTP(_ context.Context, msg account.OTPMail) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		return m.Fail
	}
	m.OTPs = append(m.OTPs, msg)
	return nil
}

func (m *Mailer) SendResetToken(_ context.Context, msg account.ResetMail) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		return m.Fail
	}
	m.Reset = append(m.Reset, msg)
	return nil
}

// LastOTP returns the newest OTP mail.
func (m *Mailer) LastOTP() (account.OTPMail, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.OTPs) == 0 {
		return account.OTPMail{}, errors.New("no OTP mail sent")
	}
	return m.OTPs[len(m.OTPs)-1], nil
}

// LastReset returns the newest reset mail.
func (m *Mailer) LastReset() (account.ResetMail, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.Reset) == 0 {
		return account.ResetMail{}, errors.New("no reset mail sent")
	}
	return m.Reset[len(m.Reset)-1], nil
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
