package routes

import (
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/pkg/config"
)

// width is the template's line width for section rules.
const width = 91

// section is a comment rule ending in title, right-aligned to width.
func section(title string) string {
	return "  # " + strings.Repeat("-", width-5-len(title)) + " " + title + "\n"
}

// comment writes text as comment lines at indent.
func comment(b *strings.Builder, indent, text string) {
	if text == "" {
		return
	}
	for _, l := range strings.Split(text, "\n") {
		b.WriteString(indent + "# " + l + "\n")
	}
}

// FunctionResources is the template's Functions part: every function with its policy and
// events, and the authorizer's invoke permission.
func FunctionResources(fns []Function) string {
	var b strings.Builder
	var family Family
	for _, f := range fns {
		if f.Family != family && f.Family.Section != "" {
			b.WriteString(section(f.Family.Section) + "\n")
		}
		family = f.Family
		writeFunction(&b, f)
		b.WriteString("\n")
		if f.IsAuthorizer() {
			writeInvokePermission(&b, f)
		}
	}
	return b.String()
}

func writeFunction(b *strings.Builder, f Function) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format+"\n", args...) }
	comment(b, "  ", f.Comment)
	w("  %s:", f.LogicalID())
	w("    Type: AWS::Serverless::Function")
	w("    Metadata:")
	w("      BuildMethod: makefile")
	w("    Properties:")
	w("      CodeUri: .")
	w("      Description: %s", f.Description)
	if f.Memory != 0 {
		w("      MemorySize: %d", f.Memory)
	}
	if env := environment(f); env != "" {
		w("      Environment:")
		w("        Variables:")
		b.WriteString(env)
	}
	w("      Policies:")
	w("        - Statement:")
	for _, g := range f.DynamoDB {
		writeGrant(b, g)
	}
	switch f.Boot {
	case MailBoot:
		w("        - !Ref SendMailPolicy")
	case AdminBoot:
		w("        - !Ref ReadTokenIndexKeyPolicy")
	}
	if f.Emits() {
		w("        - !If [HasEventBus, !Ref PublishEventsPolicy, !Ref AWS::NoValue]")
	}
	if len(f.Events) == 0 {
		return
	}
	w("      Events:")
	for _, e := range f.Events {
		comment(b, "        ", e.Comment)
		w("        %s:", e.Name)
		w("          Type: HttpApi")
		w("          Properties:")
		w("            ApiId: !Ref GatehouseApi")
		w("            Method: %s", e.Method)
		w("            Path: %s", e.Path)
	}
}

// environment is the function's own variables beyond the Globals': the settings of its
// scope (pkg/config), each from its template parameter or resource.
func environment(f Function) string {
	scope := map[Boot]config.Scope{MailBoot: config.Mailing, AdminBoot: config.Admins}[f.Boot]
	if f.Boot == PlainBoot {
		return ""
	}
	var b strings.Builder
	for _, s := range config.Settings {
		switch {
		case s.Scope != scope:
		case s.Parameter != "" || s.Resource != "":
			fmt.Fprintf(&b, "          %s: !Ref %s\n", s.Env, s.Parameter+s.Resource)
		default: // declared for sam local only (TOKEN_INDEX_KEY)
			b.WriteString("          # Empty on AWS; sam local --env-vars sets a local key here (and the ARN empty).\n")
			fmt.Fprintf(&b, "          %s: \"\"\n", s.Env)
		}
	}
	return b.String()
}

func writeGrant(b *strings.Builder, g Grant) {
	actions := make([]string, len(g.Actions))
	for i, a := range g.Actions {
		actions[i] = "dynamodb:" + a
	}
	action, resource := "["+strings.Join(actions, ", ")+"]", "!GetAtt AccountsTable.Arn"
	if g.GSI1 {
		resource = "!Sub ${AccountsTable.Arn}/index/GSI1"
		if len(actions) == 1 {
			action = actions[0]
		}
	}
	comment(b, "            ", g.Comment)
	fmt.Fprintf(b, "            - Effect: Allow\n              Action: %s\n              Resource: %s\n", action, resource)
	b.WriteString("              Condition:\n                ForAllValues:StringLike:\n                  dynamodb:LeadingKeys:\n")
	for _, k := range g.Keys {
		fmt.Fprintf(b, "                    - %q\n", k)
	}
	b.WriteString("                \"Null\":\n                  dynamodb:LeadingKeys: \"false\"\n")
}

func writeInvokePermission(b *strings.Builder, f Function) {
	id := f.LogicalID()
	fmt.Fprintf(b, `  # Any HTTP API of this account may use the authorizer; API Gateway invokes it as the
  # service principal, so without this a consumer's authorizer answers 500.
  %sInvokePermission:
    Type: AWS::Lambda::Permission
    Properties:
      Action: lambda:InvokeFunction
      FunctionName: !GetAtt %s.Arn
      Principal: apigateway.amazonaws.com
      SourceAccount: !Ref AWS::AccountId
      SourceArn: !Sub arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:*/authorizers/*

`, strings.TrimSuffix(id, "Function"), id)
}

// alarmActions notify the AlarmTopicArn topic and the AlarmEmail one, whichever is set.
const alarmActions = "[!If [HasAlarmTopic, !Ref AlarmTopicArn, !Ref AWS::NoValue], !If [HasAlarmEmail, !Ref AlarmEmailTopic, !Ref AWS::NoValue]]"

// LogResources is the template's per-function logs part: each function's log group and
// alarm, and the mailing functions' metric filters.
func LogResources(fns []Function) string {
	var b strings.Builder
	for _, f := range fns {
		id := f.LogicalID()
		fmt.Fprintf(&b, `  %[1]sLogGroup:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub /aws/lambda/${%[1]s}
      RetentionInDays: !Ref LogRetentionDays

  %[1]sAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmDescription: !Sub "${%[1]s}: Lambda errors (crash, timeout) or throttles"
      ComparisonOperator: GreaterThanOrEqualToThreshold
      Threshold: 1
      EvaluationPeriods: 1
      TreatMissingData: notBreaching
      AlarmActions: %[2]s
      OKActions: %[2]s
      Metrics:
        - Id: failures
          Expression: errors + throttles
          Label: errors and throttles
`, id, alarmActions)
		for _, m := range []struct{ id, name string }{{"errors", "Errors"}, {"throttles", "Throttles"}} {
			fmt.Fprintf(&b, `        - Id: %s
          ReturnData: false
          MetricStat:
            Metric:
              Namespace: AWS/Lambda
              MetricName: %s
              Dimensions: [{Name: FunctionName, Value: !Ref %s}]
            Period: 300
            Stat: Sum
`, m.id, m.name, id)
		}
		b.WriteString("\n")
	}
	// Mails SES refused (MailFailuresAlarm), and those refused because the sender is not a
	// verified identity (SenderNotVerifiedAlarm), counted from the "mail not sent" line.
	for _, filter := range []struct{ suffix, pattern string }{
		{"MailFailures", `{ $.msg = "mail not sent" }`},
		{"SenderNotVerified", `{ $.msg = "mail not sent" && $.reason = "sender_not_verified" }`},
	} {
		for _, f := range fns {
			if !f.Mails() {
				continue
			}
			metric := filter.suffix
			if metric == "MailFailures" {
				metric = "MailSendFailures"
			}
			fmt.Fprintf(&b, `  %[1]s%[2]s:
    Type: AWS::Logs::MetricFilter
    Properties:
      LogGroupName: !Ref %[1]sLogGroup
      FilterPattern: '%[3]s'
      MetricTransformations:
        - MetricNamespace: Gatehouse
          MetricName: %[4]s
          MetricValue: "1"
          DefaultValue: 0

`, f.LogicalID(), filter.suffix, filter.pattern, metric)
		}
	}
	return b.String()
}
