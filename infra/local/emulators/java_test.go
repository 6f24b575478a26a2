package emulators

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestJavaMajor(t *testing.T) {
	for out, want := range map[string]int{
		`openjdk version "17.0.15" 2025-04-15`:                            17,
		`openjdk version "21" 2023-09-19`:                                 21,
		`java version "1.8.0_392"`:                                        8,
		`openjdk version "11.0.22" 2024-01-16 LTS`:                        11,
		"Picked up JAVA_TOOL_OPTIONS: -Xmx1g\nopenjdk version \"25.0.1\"": 25,
	} {
		if got, ok := javaMajor(out); !ok || got != want {
			t.Errorf("%q: %d %v, want %d", out, got, ok, want)
		}
	}
	if _, ok := javaMajor("something else"); ok {
		t.Error("unreadable output gave a version")
	}
}

// A java older than 17 on PATH fails CheckJava in one line, before DynamoDB Local starts.
func TestCheckJavaRefusesOldJava(t *testing.T) {
	dir := t.TempDir()
	script := "#!/bin/sh\necho 'java version \"1.8.0_392\"' >&2\n"
	if err := os.WriteFile(filepath.Join(dir, "java"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	err := CheckJava()
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "Java 8; DynamoDB Local needs Java 17 or newer") {
		t.Fatalf("CheckJava = %v", err)
	}
}
