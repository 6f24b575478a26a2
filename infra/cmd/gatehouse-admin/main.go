// Command gatehouse-admin bootstraps the admin account of a deployed Gatehouse stack and
// moves users in and out of it:
//
//	gatehouse-admin create --table NAME --username NAME [--region REGION] [--promote-existing]
//	gatehouse-admin create --local [--dynamodb-port 8000] [--table gatehouse-local] --username NAME
//	gatehouse-admin import --file users.jsonl [--dry-run] (--table NAME | --local)
//	gatehouse-admin export [--with-hashes] [--rate N] (--table NAME | --local) > users.jsonl
//
// import and export are described in migrate.go and the README's "Migrating users".
//
// creates an admin account with a password, or sets a new password for an existing admin
// (ending its sessions), directly in the stack's DynamoDB table, through the
// same domain and store code the functions use. An existing account that is not an admin
// is promoted only with --promote-existing, which takes it away from whoever registered it
// (its email, user_secret, API token and pending codes go). The password is read from standard input
// when that is not a terminal (its first line), otherwise prompted for twice without echo;
// never from the command line or the environment. AWS credentials and region come from the
// SDK's standard chain (environment, shared config and credentials files, SSO, instance
// roles); AWS_ENDPOINT_URL_DYNAMODB points it at another endpoint (DynamoDB Local). --local
// (or a loopback AWS_ENDPOINT_URL_DYNAMODB) needs no region and no credentials.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/dynamo"
	"github.com/gatehouse/gatehouse/pkg/password"
)

const usage = `usage: gatehouse-admin create --table NAME --username NAME [--region REGION] [--promote-existing]
       gatehouse-admin create --local [--dynamodb-port PORT] [--table NAME] --username NAME
       gatehouse-admin import --file users.jsonl [--dry-run] [--concurrency N] (--table NAME [--region REGION] | --local)
       gatehouse-admin export [--with-hashes] [--rate N] (--table NAME [--region REGION] | --local) > users.jsonl

Creates an admin account in a Gatehouse table, or sets a new password for an existing
admin. The password is read from standard input when it is not a terminal (first
line), otherwise prompted for twice without echo.

  --table             the stack's DynamoDB table (stack output TableName)
  --username          the admin's username
  --region            AWS region (default: from AWS_REGION or the AWS profile)
  --promote-existing  make an existing account that is not an admin an admin: its
                      email, user_secret, API token and pending one-time codes and
                      reset tokens are removed and its sessions end, so whoever
                      registered it keeps no way in
  --local             the local stack of make run: DynamoDB Local on 127.0.0.1, table
                      gatehouse-local by default, no region or credentials needed (also
                      when AWS_ENDPOINT_URL_DYNAMODB is a loopback address)
  --dynamodb-port     DynamoDB Local's port with --local (default 8000)

import creates one account per line of a JSON lines file (README "Migrating users"),
keeping its password hash and created_at; refused lines are reported on standard
output (exit status 1), progress on standard error. A re-run skips what it imported.
  --file              the file ("-" for standard input)
  --dry-run           validate and look up every line, write nothing
  --concurrency       lines in flight against the table (default 16)

export writes every account as JSON lines to standard output, without secrets.
  --with-hashes       include password hashes (API tokens, user_secrets and sessions
                      are never exported)
  --rate              accounts read per second at most (default 500; 0 = no bound)
`

// maxLine bounds what is read as a password line (the rule allows 200 code points, at
// most 800 bytes).
const maxLine = 4096

// awsTimeout bounds the DynamoDB work once the password is in.
const awsTimeout = 2 * time.Minute

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// exitError is a failure with its exit status: 2 for usage errors, 1 for the rest.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func failf(format string, args ...any) error {
	return &exitError{code: 1, msg: fmt.Sprintf(format, args...)}
}

func usageError(format string, args ...any) error {
	return &exitError{code: 2, msg: fmt.Sprintf(format, args...)}
}

func run(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	var err error
	switch {
	case len(args) > 0 && args[0] == "import":
		err = importCommand(args[1:], stdin, stdout, stderr)
	case len(args) > 0 && args[0] == "export":
		err = exportCommand(args[1:], stdout, stderr)
	default:
		err = create(args, stdin, stdout, stderr)
	}
	if err == nil {
		return 0
	}
	code := 1
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	fmt.Fprintf(stderr, "gatehouse-admin: %v\n", err)
	if code == 2 {
		fmt.Fprint(stderr, "\n"+usage)
	}
	return code
}

type options struct {
	target
	username string
	promote  bool
}

func parseArgs(args []string, stderr io.Writer) (options, error) {
	if len(args) == 0 {
		return options{}, usageError("no command given")
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		return options{}, &exitError{code: 0}
	}
	if args[0] != "create" {
		return options{}, usageError("unknown command %q", args[0])
	}
	fs := flag.NewFlagSet("create", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var o options
	o.target.flags(fs)
	fs.StringVar(&o.username, "username", "", "")
	fs.BoolVar(&o.promote, "promote-existing", false, "")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stderr, usage)
			return options{}, &exitError{code: 0}
		}
		return options{}, usageError("%v", err)
	}
	switch {
	case fs.NArg() > 0:
		return options{}, usageError("unexpected argument %q (the password is read from standard input)", fs.Arg(0))
	case o.table == "" && o.local:
		o.table = localTable
	case o.table == "":
		return options{}, usageError("--table is required")
	case o.username == "":
		return options{}, usageError("--username is required")
	}
	return o, nil
}

func create(args []string, stdin *os.File, stdout, stderr io.Writer) error {
	o, err := parseArgs(args, stderr)
	if err != nil {
		return quietHelp(err)
	}
	// Check the name before asking for a password.
	if _, err := account.ParseUsername(o.username); err != nil {
		return failf("invalid username: %s", reason(err))
	}
	// The AWS configuration too (it fetches no credentials yet).
	cfg, client, err := o.target.dial()
	if err != nil {
		return err
	}
	hasher, err := password.New(password.OWASP)
	if err != nil {
		return failf("password hasher: %v", err)
	}
	lookup, cancelLookup := context.WithTimeout(context.Background(), awsTimeout)
	key, err := tokenIndexKey(lookup, cfg, os.Getenv)
	if err != nil {
		cancelLookup()
		return err
	}
	svc := account.NewService(dynamo.New(client, o.table), hasher, nil, account.Config{TokenIndexKey: key}, nil)

	// Whether the account exists (and is an admin) decides before the password is asked
	// for; EnsureAdmin decides again at the write, so a race cannot promote by accident.
	before, err := svc.AccountByUsername(lookup, o.username)
	cancelLookup()
	if err != nil && !errors.Is(err, account.ErrNotFound) {
		return storeError(err, o.table, cfg.Region)
	}
	if before != nil && before.Role != account.RoleAdmin && !o.promote {
		return refusePromotion(before.Username)
	}
	pw, err := readPassword(stdin, stderr, o.username)
	if err != nil {
		return err
	}
	if err := account.ValidatePassword(pw); err != nil {
		return failf("invalid password: %s", reason(err))
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, awsTimeout)
	defer cancel()
	ensure := svc.EnsureAdmin
	if o.promote {
		ensure = svc.PromoteAdmin
	}
	a, created, err := ensure(ctx, o.username, pw)
	if errors.Is(err, account.ErrUsernameTaken) { // registered since the lookup
		return refusePromotion(o.username)
	}
	if err != nil {
		return storeError(err, o.table, cfg.Region)
	}
	switch {
	case created:
		fmt.Fprintf(stdout, "created admin %s\n", a.Username)
	case before != nil && before.Role == account.RoleAdmin:
		fmt.Fprintf(stdout, "set a new password for admin %s\n", a.Username)
	default:
		fmt.Fprintf(stdout, "promoted %s to admin; its email, user_secret, API token and pending codes were removed and its sessions ended\n", a.Username)
	}
	return nil
}

// refusePromotion explains why an existing account is not made an admin without asking:
// anyone may have registered it, and would keep its ways in.
func refusePromotion(username string) error {
	return failf("account %s exists and is not an admin; not promoting it, because whoever registered it "+
		"may still control it (its email, user_secret or API token). Choose another username, or run again "+
		"with --promote-existing to make it an admin anyway: that removes its email, user_secret, API token "+
		"and pending one-time codes and reset tokens, and ends its sessions", username)
}

// storeError explains a failure of the table's side.
func storeError(err error, table, region string) error {
	var notFound *types.ResourceNotFoundException
	if errors.As(err, &notFound) {
		return failf("table %q not found in region %s (use the stack output TableName)", table, region)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return failf("DynamoDB did not answer within %s", awsTimeout)
	}
	if errors.Is(err, context.Canceled) {
		return failf("interrupted")
	}
	var e *account.Error
	if errors.As(err, &e) {
		switch {
		case e.Code == account.CodeInvalidInput:
			return failf("invalid %s: %s", e.Field, reason(err))
		case e.Code == account.CodeInternal && e.Err != nil:
			return failf("%v", e.Err) // the cause, without the domain's "internal:" prefix
		}
	}
	return failf("%v", err)
}

// reason is the human text of a validation error.
func reason(err error) string { return account.Explain(err) }

// readPassword reads the password: the first line of stdin when it is not a terminal,
// otherwise a prompt (on stderr) answered twice with echo off.
func readPassword(stdin *os.File, stderr io.Writer, username string) (string, error) {
	in := bufio.NewReaderSize(stdin, maxLine)
	saved, tty := terminalState(stdin)
	if !tty {
		pw, err := readLine(in)
		if errors.Is(err, io.EOF) {
			return "", failf("no password on standard input")
		}
		return pw, err
	}
	if err := stty(stdin, "-echo"); err != nil {
		return "", failf("cannot turn off echo on the terminal: %v", err)
	}
	restore := func() { _ = stty(stdin, saved) }
	defer restore()
	// An interrupt at the prompt must not leave the terminal without echo.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	go func() {
		if _, ok := <-sig; ok {
			restore()
			fmt.Fprintln(stderr)
			os.Exit(130)
		}
	}()

	ask := func(prompt string) (string, error) {
		fmt.Fprint(stderr, prompt)
		pw, err := readLine(in)
		fmt.Fprintln(stderr) // the Enter the terminal did not echo
		if errors.Is(err, io.EOF) {
			return "", failf("no password entered")
		}
		return pw, err
	}
	pw, err := ask(fmt.Sprintf("Password for admin %s: ", username))
	if err != nil {
		return "", err
	}
	if err := account.ValidatePassword(pw); err != nil {
		return "", failf("invalid password: %s", reason(err))
	}
	again, err := ask("Repeat the password: ")
	if err != nil {
		return "", err
	}
	if again != pw {
		return "", failf("the passwords do not match")
	}
	return pw, nil
}

// readLine reads one line without its line ending ("\n" or "\r\n"); nothing else of it
// is trimmed. io.EOF only when there was nothing at all.
func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return "", failf("password line too long")
	case errors.Is(err, io.EOF):
		if len(line) == 0 {
			return "", io.EOF
		}
	case err != nil:
		return "", failf("reading the password: %v", err)
	}
	s := strings.TrimSuffix(string(line), "\n")
	return strings.TrimSuffix(s, "\r"), nil
}

// terminalState reports whether f is a terminal, with its settings (`stty -g`) to
// restore later. stty answers only for a terminal, which makes it a portable test.
func terminalState(f *os.File) (saved string, ok bool) {
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return "", false
	}
	cmd := exec.Command("stty", "-g")
	cmd.Stdin = f
	out, err := cmd.Output()
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(string(out)), true
}

func stty(f *os.File, args ...string) error {
	cmd := exec.Command("stty", args...)
	cmd.Stdin = f
	return cmd.Run()
}
