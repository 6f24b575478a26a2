package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gatehouse/gatehouse/infra/local/emulators"
	"github.com/gatehouse/gatehouse/infra/local/samtemplate"
	"github.com/gatehouse/gatehouse/infra/local/stack"
)

// runEmulators is -emulators-only (make emulators): DynamoDB Local with the template's
// table and the SES emulator, without the gateway or any function, for
// `sam local start-api --env-vars infra/local/sam-local-env.json`. It returns when ctx ends.
func runEmulators(ctx context.Context, cfg config, out io.Writer) error {
	root, err := emulators.FindRepoRoot("")
	if err != nil {
		return err
	}
	tmpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return fmt.Errorf("reading the SAM template: %w", err)
	}
	if err := emulators.CheckJava(); err != nil {
		return err
	}
	if err := emulators.CheckNode(); err != nil {
		return err
	}
	var logw io.Writer = os.Stderr
	if cfg.quiet {
		logw = nil
	}
	dataDir := ""
	if !cfg.inMemory {
		dataDir = cfg.dataDir
		if !filepath.IsAbs(dataDir) {
			dataDir = filepath.Join(root, dataDir)
		}
	}
	dynamo, err := emulators.StartDynamoDB(ctx, emulators.DynamoDBOptions{Port: cfg.dynamoPort, DataDir: dataDir, RepoRoot: root, Log: logw})
	if err != nil {
		return err
	}
	defer dynamo.Stop()
	ses, err := emulators.StartSES(ctx, emulators.SESOptions{Port: cfg.sesPort, RepoRoot: root, Log: logw})
	if err != nil {
		return err
	}
	defer ses.Stop()
	// The same table name as make run, so both see the same accounts.
	// Gatehouse has one table; sam-local-env.json names it.
	if len(tmpl.Tables) > 0 {
		if err := samtemplate.CreateTable(ctx, emulators.DynamoDBClient(dynamo.Endpoint), tmpl, tmpl.Tables[0].LogicalID, stack.DefaultTableName); err != nil {
			return err
		}
	}

	fmt.Fprintln(out)
	fmt.Fprintln(out, "Gatehouse's emulators are running (no gateway, no functions).")
	fmt.Fprintf(out, "  DynamoDB   %s   table %s\n", dynamo.Endpoint, stack.DefaultTableName)
	fmt.Fprintf(out, "  Inbox      %s   (JSON at /store)\n", ses.Endpoint)
	fmt.Fprintln(out, "  sam local  sam build && sam local start-api --env-vars infra/local/sam-local-env.json \\")
	fmt.Fprintln(out, "               --parameter-overrides SenderEmail=no-reply@gatehouse.local   (README: sam local)")
	fmt.Fprintln(out, "Press Ctrl-C to stop.")
	fmt.Fprintln(out)

	select {
	case <-ctx.Done():
		fmt.Fprintln(os.Stderr, "gatehouse-local: shutting down")
		return nil
	case <-dynamo.Done():
		return fmt.Errorf("DynamoDB Local exited: %v", dynamo.Err())
	case <-ses.Done():
		return fmt.Errorf("SES emulator exited: %v", ses.Err())
	}
}
