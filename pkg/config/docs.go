package config

import "strings"

// MarkdownTable is the README's configuration table, written from Settings (make
// generate): variable, template parameter, meaning, default.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| variable | template parameter | meaning | default |\n|---|---|---|---|\n")
	for _, s := range Settings {
		param, def := "—", "—"
		if s.Parameter != "" {
			param = "`" + s.Parameter + "`"
		}
		switch {
		case s.Default != "":
			def = "`" + s.Default + "`"
		case s.Env == "TABLE_NAME":
			def = "required"
		case s.Env == "SENDER_EMAIL":
			def = "required where mail is sent"
		}
		b.WriteString("| `" + s.Env + "` | " + param + " | " + s.Description + " | " + def + " |\n")
	}
	return b.String()
}
