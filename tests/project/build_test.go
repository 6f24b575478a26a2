package project

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// bootstrapBudget is docs/DESIGN.md's size budget of a function binary.
const bootstrapBudget = 10 << 20

// TestSAMBuildProtocol runs, for every function, what `sam build` runs with BuildMethod
// makefile — `make build-<LogicalId> ARTIFACTS_DIR=<dir>` — and checks that a static arm64
// ELF named bootstrap, within the size budget, appears there.
func TestSAMBuildProtocol(t *testing.T) {
	root, tmpl := repo(t)
	for _, fn := range tmpl.Functions {
		t.Run(fn.LogicalID, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			cmd := exec.Command("make", "-s", "-C", root, "build-"+fn.LogicalID, "ARTIFACTS_DIR="+dir)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("make build-%s: %v\n%s", fn.LogicalID, err, out)
			}
			path := filepath.Join(dir, "bootstrap")
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode()&0o111 == 0 || st.Size() > bootstrapBudget {
				t.Fatalf("bootstrap mode %v, %d bytes (budget %d)", st.Mode(), st.Size(), bootstrapBudget)
			}
			f, err := elf.Open(path)
			if err != nil {
				t.Fatalf("not an ELF file: %v", err)
			}
			defer f.Close()
			if f.Machine != elf.EM_AARCH64 || f.Class != elf.ELFCLASS64 || f.Type != elf.ET_EXEC {
				t.Fatalf("machine %v, class %v, type %v; want a 64-bit arm64 executable", f.Machine, f.Class, f.Type)
			}
			for _, p := range f.Progs {
				if p.Type == elf.PT_INTERP {
					t.Fatal("dynamically linked; provided.al2023 needs a static binary")
				}
			}
		})
	}
}

// TestEveryFunctionIsLoggedAndWatched: every function writes to its own log group with a
// retention, named /aws/lambda/<function name> (Lambda's default group, where `sam logs
// -n <LogicalId>` looks), and has an alarm on its errors and throttles.
func TestEveryFunctionIsLoggedAndWatched(t *testing.T) {
	root, tmpl := repo(t)
	var doc struct {
		Resources map[string]struct {
			Type       string         `yaml:"Type"`
			Properties map[string]any `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	readYAML(t, root, "template.yaml", &doc)
	for _, fn := range tmpl.Functions {
		props := doc.Resources[fn.LogicalID].Properties
		// A LoggingConfig.LogGroup of the function's own would send its logs elsewhere.
		if lc, _ := props["LoggingConfig"].(map[string]any); lc["LogGroup"] != nil {
			t.Errorf("%s: LoggingConfig.LogGroup is %v, want Lambda's default group", fn.LogicalID, lc["LogGroup"])
		}
		lg := doc.Resources[fn.LogicalID+"LogGroup"]
		if lg.Type != "AWS::Logs::LogGroup" || lg.Properties["RetentionInDays"] == nil {
			t.Errorf("%s: no log group with retention", fn.LogicalID)
		}
		if want := "/aws/lambda/${" + fn.LogicalID + "}"; lg.Properties["LogGroupName"] != want {
			t.Errorf("%s: log group named %v, want !Sub %s", fn.LogicalID, lg.Properties["LogGroupName"], want)
		}
		if doc.Resources[fn.LogicalID+"Alarm"].Type != "AWS::CloudWatch::Alarm" {
			t.Errorf("%s: no alarm", fn.LogicalID)
		}
	}
}
