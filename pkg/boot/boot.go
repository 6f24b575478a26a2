// Package boot is the composition root of the Lambda functions: it reads the
// configuration and builds the logger, the AWS clients, the store, the hasher and the
// account service, once per cold start. Functions that send mail pass a MailerFunc
// (mailboot does), so functions that do not never link the SES client.
package boot

import (
	"cmp"
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/awsenv"
	"github.com/gatehouse/gatehouse/pkg/config"
	"github.com/gatehouse/gatehouse/pkg/dynamo"
	"github.com/gatehouse/gatehouse/pkg/events"
	"github.com/gatehouse/gatehouse/pkg/events/bus"
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
func Init(opts ...config.Option) *Runtime { return InitWith(nil, opts...) }

// InitWith is Init for a function that sends mail through the mailer newMailer builds.
func InitWith(newMailer MailerFunc, opts ...config.Option) *Runtime {
	rt, err := NewWith(context.Background(), os.Getenv, newMailer, opts...)
	if err != nil {
		logging.New(os.Stdout, slog.LevelInfo).Error("startup failed", "error", err.Error())
		os.Exit(1)
	}
	return rt
}

// MailerFunc builds a function's mailer from its configuration, before the service that
// is handed it.
type MailerFunc func(cfg *config.Config, awsCfg aws.Config, getenv func(string) string) account.Mailer

// New builds the Runtime of a function that sends no mail from getenv.
func New(ctx context.Context, getenv func(string) string, opts ...config.Option) (*Runtime, error) {
	return NewWith(ctx, getenv, nil, opts...)
}

// NewWith builds the Runtime from getenv, with the mailer newMailer builds (none when nil).
func NewWith(_ context.Context, getenv func(string) string, newMailer MailerFunc, opts ...config.Option) (*Runtime, error) {
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
	var mailer account.Mailer
	if newMailer != nil {
		mailer = newMailer(cfg, awsCfg, getenv)
	}
	obs := Observer(cfg, awsCfg, getenv, log)
	store := dynamo.New(dynamo.NewClient(awsCfg, awsenv.Endpoint(getenv, dynamodb.ServiceID)), cfg.TableName)
	svc := account.NewService(store, hasher, mailer, account.Config{
		AllowRegistration: cfg.AllowRegistration,
		SessionTTL:        cfg.SessionTTL,
		OTPTTL:            cfg.OTPTTL,
		ResetTTL:          cfg.ResetTTL,
		AppURL:            cfg.AppURL,
		AuditTTL:          cfg.AuditTTL,
		MailInterval:      cfg.MailInterval,
		MailPerHour:       cfg.MailPerHour,

		RecipientMailsPerHour: cfg.RecipientMailsPerHour,
		MailBudgetPerHour:     cfg.MailBudgetPerHour,
		OTPFailuresPerDay:     cfg.OTPFailuresPerDay,
		// 0 switches the per-IP limit off; the domain reads 0 as its default.
		IPFailedChecksPerHour: cmp.Or(cfg.IPFailedChecksPerHour, -1),
	}, log, account.WithObserver(obs))
	return &Runtime{Config: cfg, Log: log, AWS: awsCfg, Service: svc, Getenv: getenv}, nil
}

// Observer is what every function does with audit events: EMF metrics on stdout, a log
// line for those no account stores, and, when EVENT_BUS_NAME is set, EventBridge (its
// client built here, once per cold start, and only then).
func Observer(cfg *config.Config, awsCfg aws.Config, getenv func(string) string, log *slog.Logger) account.EventObserver {
	metrics := events.NewMetrics(os.Stdout, cfg.LogLevel)
	obs := events.Fanout{metrics, events.Unstored{Log: log}}
	if cfg.EventBusName != "" {
		obs = append(obs, &bus.Publisher{API: bus.NewClient(awsCfg, bus.Endpoint(getenv)), Bus: cfg.EventBusName, Log: log, Metrics: metrics})
	}
	return obs
}
