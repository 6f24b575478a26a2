package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/dynamo"
	"github.com/gatehouse/gatehouse/pkg/password"
)

// defaultExportRate bounds an export's reads (accounts a second) unless --rate says
// otherwise: about 250 read units a second (eventually consistent reads of items under
// 4 KB), little beside a table's on-demand or provisioned capacity for logins.
const defaultExportRate = 500

// migrateFlags parses the flags of import or export; the target's table defaults to the
// local stack's with --local.
func migrateFlags(name string, args []string, stderr io.Writer, extra func(*flag.FlagSet)) (target, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var t target
	t.flags(fs)
	extra(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stderr, usage)
			return t, &exitError{code: 0}
		}
		return t, usageError("%v", err)
	}
	switch {
	case fs.NArg() > 0:
		return t, usageError("unexpected argument %q", fs.Arg(0))
	case t.table == "" && t.local:
		t.table = localTable
	case t.table == "":
		return t, usageError("--table is required")
	}
	return t, nil
}

// service is the domain on the target's table. The hasher only checks imported hashes
// (nothing is hashed), so its parameters do not matter here.
func (t *target) service() (*account.Service, string, error) {
	cfg, client, err := t.dial()
	if err != nil {
		return nil, "", err
	}
	hasher, err := password.New(password.OWASP)
	if err != nil {
		return nil, "", failf("password hasher: %v", err)
	}
	return account.NewService(dynamo.New(client, t.table), hasher, nil, account.Config{}, nil), cfg.Region, nil
}

func importCommand(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var file string
	var opt account.ImportOptions
	t, err := migrateFlags("import", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&file, "file", "", "")
		fs.BoolVar(&opt.DryRun, "dry-run", false, "")
		fs.IntVar(&opt.Concurrency, "concurrency", 16, "")
	})
	if err != nil {
		return quietHelp(err)
	}
	if file == "" {
		return usageError("--file is required")
	}
	if opt.Concurrency < 1 || opt.Concurrency > 256 {
		return usageError("--concurrency must be 1 to 256")
	}
	in := stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return failf("%v", err)
		}
		defer f.Close()
		in = f
	}
	svc, region, err := t.service()
	if err != nil {
		return err
	}
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	opt.Report = func(r account.ImportResult) {
		if r.Outcome == account.ImportRefused {
			fmt.Fprintf(out, "line %d %q: %s\n", r.Line, r.Username, r.Reason)
		}
	}
	start := time.Now()
	opt.Progress = func(s account.ImportSummary) {
		fmt.Fprintf(stderr, "import: %d lines, %.0f lines/s (%s)\n", s.Lines, float64(s.Lines)/time.Since(start).Seconds(), counts(s, opt.DryRun))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sum, err := svc.Import(ctx, in, opt)
	verb := "imported"
	if opt.DryRun {
		verb = "dry run"
	}
	fmt.Fprintf(out, "%s: %d lines: %s\n", verb, sum.Lines, counts(sum, opt.DryRun))
	if err := out.Flush(); err != nil {
		return failf("writing the report: %v", err)
	}
	if errors.Is(err, account.ErrImportAborted) {
		return failf("%v (every line before it was imported whole or not at all; running the import again continues)", err)
	}
	if err != nil {
		return storeError(err, t.table, region)
	}
	if sum.Refused > 0 {
		return failf("%d of %d lines refused (listed above)", sum.Refused, sum.Lines)
	}
	return nil
}

func counts(s account.ImportSummary, dry bool) string {
	created := "created"
	if dry {
		created = "would be created"
	}
	return fmt.Sprintf("%d %s, %d unchanged, %d refused", s.Created, created, s.Unchanged, s.Refused)
}

func exportCommand(args []string, stdout, stderr io.Writer) error {
	var opt account.ExportOptions
	t, err := migrateFlags("export", args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&opt.WithHashes, "with-hashes", false, "")
		fs.Float64Var(&opt.Rate, "rate", defaultExportRate, "")
	})
	if err != nil {
		return quietHelp(err)
	}
	if opt.Rate < 0 {
		return usageError("--rate must not be negative")
	}
	svc, region, err := t.service()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	out := bufio.NewWriter(stdout)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	n, err := svc.Export(ctx, opt, func(r account.UserRecord) error { return enc.Encode(r) })
	if ferr := out.Flush(); err == nil && ferr != nil {
		return failf("writing the export: %v", ferr)
	}
	if err != nil {
		return storeError(err, t.table, region)
	}
	fmt.Fprintf(stderr, "exported %d accounts\n", n)
	return nil
}

// quietHelp turns --help (already printed) into success.
func quietHelp(err error) error {
	var ee *exitError
	if errors.As(err, &ee) && ee.code == 0 {
		return nil
	}
	return err
}
