package stack

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/gatehouse/gatehouse/infra/local/emulators"
	"github.com/gatehouse/gatehouse/infra/local/samtemplate"
	"github.com/gatehouse/gatehouse/internal/logline"
)

// backends are what a gateway's functions run against: DynamoDB Local and the SES
// emulator, the template's table in it, and the functions built for this host. Start
// brings them up once; every gateway on them shares them; the stack from Start stops them.
type backends struct {
	opts     Options
	template *samtemplate.Template
	// tableID and tableName are the template's table ("" when it has none).
	tableID, tableName string
	tokenIndexKey      string
	log, fnLog         io.Writer

	dynamo, ses                 *emulators.Emulator
	dynamoEndpoint, sesEndpoint string
	binDir                      string
	ownBinDir                   bool

	onFail   func(error)
	watchers sync.WaitGroup
	quit     chan struct{}

	// What the functions' DynamoDB guards (iam.go) refused, on any gateway.
	denyMu  sync.Mutex
	denials []string
}

// loadBackends reads the template and settles names and keys; nothing starts yet.
func loadBackends(opts Options) (*backends, error) {
	b := &backends{
		opts:  opts,
		log:   logline.Locked(opts.LogWriter),
		fnLog: logline.Locked(opts.FunctionLogWriter),
		quit:  make(chan struct{}),
	}
	if b.opts.RepoRoot == "" {
		r, err := emulators.FindRepoRoot("")
		if err != nil {
			return nil, err
		}
		b.opts.RepoRoot = r
	}
	if b.opts.TemplatePath == "" {
		b.opts.TemplatePath = filepath.Join(b.opts.RepoRoot, "template.yaml")
	}
	tmpl, err := samtemplate.Load(b.opts.TemplatePath)
	if err != nil {
		return nil, fmt.Errorf("reading the SAM template: %w", err)
	}
	b.template = tmpl
	if err := b.nameTable(); err != nil {
		return nil, err
	}
	if err := b.setTokenIndexKey(); err != nil {
		return nil, err
	}
	return b, nil
}

// nameTable names the template's one table (Gatehouse is a single-table design).
func (b *backends) nameTable() error {
	switch len(b.template.Tables) {
	case 0:
		return nil
	case 1:
	default:
		return fmt.Errorf("the template has %d tables; the local stack runs one", len(b.template.Tables))
	}
	b.tableID, b.tableName = b.template.Tables[0].LogicalID, b.opts.TableName
	if b.tableName == "" {
		b.tableName = DefaultTableName
	}
	return nil
}

// refs resolves !Ref of the table to its name.
func (b *backends) refs() map[string]string {
	if b.tableID == "" {
		return map[string]string{}
	}
	return map[string]string{b.tableID: b.tableName}
}

// checkTools fails in one clear line when a tool or port the emulators need is missing.
func (b *backends) checkTools() error {
	if err := emulators.CheckJava(); err != nil {
		return err
	}
	if err := emulators.CheckNode(); err != nil {
		return err
	}
	if _, _, err := emulators.DynamoDBLocalPaths(b.opts.RepoRoot); err != nil {
		return err
	}
	if _, err := emulators.SESCLIPath(b.opts.RepoRoot); err != nil {
		return err
	}
	if err := emulators.CheckPortFree(b.opts.DynamoDBPort, "DynamoDB Local"); err != nil {
		return err
	}
	return emulators.CheckPortFree(b.opts.SESPort, "SES local")
}

// start starts both emulators and builds the functions, all at once (the first failure
// cancels the rest), then makes sure the table exists.
func (b *backends) start(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	run := func(f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
					cancel()
				}
				mu.Unlock()
			}
		}()
	}
	run(func(ctx context.Context) error {
		e, err := emulators.StartDynamoDB(ctx, emulators.DynamoDBOptions{
			Port: b.opts.DynamoDBPort, DataDir: b.opts.DynamoDBDataDir, RepoRoot: b.opts.RepoRoot, Log: b.log,
		})
		if err == nil {
			b.dynamo, b.dynamoEndpoint = e, e.Endpoint
		}
		return err
	})
	run(func(ctx context.Context) error {
		e, err := emulators.StartSES(ctx, emulators.SESOptions{Port: b.opts.SESPort, RepoRoot: b.opts.RepoRoot, Log: b.log})
		if err == nil {
			b.ses, b.sesEndpoint = e, e.Endpoint
		}
		return err
	})
	run(b.build)
	wg.Wait()
	if firstErr != nil || b.tableID == "" {
		return firstErr
	}
	return samtemplate.CreateTable(ctx, emulators.DynamoDBClient(b.dynamoEndpoint), b.template, b.tableID, b.tableName)
}

func (b *backends) emulators() []*emulators.Emulator {
	var out []*emulators.Emulator
	for _, e := range []*emulators.Emulator{b.dynamo, b.ses} {
		if e != nil {
			out = append(out, e)
		}
	}
	return out
}

// watch reports an emulator that exits on its own through onFail.
func (b *backends) watch() {
	for _, e := range b.emulators() {
		b.watchers.Add(1)
		go func() {
			defer b.watchers.Done()
			select {
			case <-e.Done():
				if err := e.Err(); err != nil {
					b.onFail(err)
				}
			case <-b.quit:
			}
		}()
	}
}

func (b *backends) pids() []int {
	var pids []int
	for _, e := range b.emulators() {
		pids = append(pids, e.PID)
	}
	return pids
}

// binary is the path of the function built from dir.
func (b *backends) binary(dir string) string {
	return filepath.Join(b.binDir, filepath.Base(dir))
}

func (b *backends) denied(line string) {
	fmt.Fprintf(b.log, "[iam] %s\n", line)
	b.denyMu.Lock()
	b.denials = append(b.denials, line)
	b.denyMu.Unlock()
}

func (b *backends) deniedCalls() []string {
	b.denyMu.Lock()
	defer b.denyMu.Unlock()
	return slices.Clone(b.denials)
}

// stop stops the emulators, waiting for them to exit, and removes a temporary build
// directory.
func (b *backends) stop() error {
	close(b.quit)
	b.watchers.Wait()
	var wg sync.WaitGroup
	for _, e := range b.emulators() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.Stop()
		}()
	}
	wg.Wait()
	if b.ownBinDir && b.binDir != "" {
		return os.RemoveAll(b.binDir)
	}
	return nil
}
