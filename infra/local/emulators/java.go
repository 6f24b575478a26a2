package emulators

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"time"
)

// MinJavaVersion is the oldest Java DynamoDB Local runs on; an older one fails with a raw
// UnsupportedClassVersionError.
const MinJavaVersion = 17

var javaVersionRe = regexp.MustCompile(`version "(\d+)(?:\.(\d+))?`)

// javaMajor reads the major version from `java -version` output: "17.0.15" is 17, the
// old scheme "1.8.0_392" is 8.
func javaMajor(out string) (int, bool) {
	m := javaVersionRe.FindStringSubmatch(out)
	if m == nil {
		return 0, false
	}
	major, _ := strconv.Atoi(m[1])
	if major == 1 && m[2] != "" {
		major, _ = strconv.Atoi(m[2])
	}
	return major, true
}

// checkJavaVersion fails in one line when the java at path is older than MinJavaVersion.
// Output it cannot read is let through: DynamoDB Local then says what is wrong itself.
func checkJavaVersion(path string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "-version").CombinedOutput()
	if err != nil {
		return fmt.Errorf("java -version failed (%v): DynamoDB Local needs Java %d or newer", err, MinJavaVersion)
	}
	if major, ok := javaMajor(string(out)); ok && major < MinJavaVersion {
		return fmt.Errorf("java on PATH is Java %d; DynamoDB Local needs Java %d or newer (e.g. apt-get install openjdk-17-jre-headless)", major, MinJavaVersion)
	}
	return nil
}
