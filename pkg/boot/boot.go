// Package boot is the composition root of the Lambda functions: it reads the
// configuration and builds the logger, the AWS clients, the store, the hasher and the
// account service, once per cold start. Functions that send mail add a mailer themselves,
// so functions that do not never link the SES client.
package boot

import (
	"cmp"
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/awsenv"
	"github.com/gatehouse/gatehouse/pkg/config"
	"github.com/gatehouse/gatehouse/pkg/dynamo"
	"github.com/gatehouse/gatehouse/pkg/invocation"
	"github.com/gatehouse/gatehouse/pkg/logging"
	"github.com/gatehouse/gatehouse/pkg/password"
)

// Runtime is what a function's main wires its handler from.
type Runtime struct {
	Config  *config.Config
	Log     *slog.Logger
	AWS     aws.Config
	Service *account.Service
	Getenv  func(string) string
}

// Init builds the Runtime or, on a configuration error, logs every problem and exits:
// Lambda then reports an init error instead of serving with a half-read configuration.
func Init(opts ...config.Option) *Runtime {
	rt, err := New(context.Background(), os.Getenv, opts...)
	if err != nil {
		logging.New(os.Stdout, slog.LevelInfo).Error("startup failed", "error", err.Error())
		os.Exit(1)
	}
	return rt
}

// New builds the Runtime from getenv.
func New(_ context.Context, getenv func(string) string, opts ...config.Option) (*Runtime, error) {
	cfg, err := config.Load(getenv, opts...)
	if err != nil {
		return nil, err
	}
	log := logging.New(os.Stdout, cfg.LogLevel)
	awsCfg, err := awsenv.Config(getenv, logging.SDK(log))
	if err != nil {
		return nil, err
	}
	hasher, err := password.New(cfg.Argon2)
	if err != nil {
		return nil, err
	}
	store := dynamo.New(dynamo.NewClient(awsCfg, awsenv.Endpoint(getenv, dynamodb.ServiceID)), cfg.TableName)
	svc := account.NewService(store, timedHasher{hasher}, nil, account.Config{
		AllowRegistration: cfg.AllowRegistration,
		SessionTTL:        cfg.SessionTTL,
		OTPTTL:            cfg.OTPTTL,
		ResetTTL:          cfg.ResetTTL,
		MailInterval:      cfg.MailInterval,
		MailPerHour:       cfg.MailPerHour,

		RecipientMailsPerHour: cfg.RecipientMailsPerHour,
		MailBudgetPerHour:     cfg.MailBudgetPerHour,
		OTPFailuresPerDay:     cfg.OTPFailuresPerDay,
		// 0 switches the per-IP limit off; the domain reads 0 as its default.
		IPFailedChecksPerHour: cmp.Or(cfg.IPFailedChecksPerHour, -1),
	}, log)
	return &Runtime{Config: cfg, Log: log, AWS: awsCfg, Service: svc, Getenv: getenv}, nil
}

// timedHasher reports the time spent on password hashes to the invocation's measurement.
type timedHasher struct{ account.Hasher }

func (h timedHasher) Hash(password string) (string, error) {
	defer track(time.Now())
	return h.Hasher.Hash(password)
}

func (h timedHasher) Verify(hash, password string) (bool, bool, error) {
	defer track(time.Now())
	return h.Hasher.Verify(hash, password)
}

func (h timedHasher) VerifyDummy(password string) {
	defer track(time.Now())
	h.Hasher.VerifyDummy(password)
}

func track(start time.Time) { invocation.Current().AddHash(time.Since(start)) }
