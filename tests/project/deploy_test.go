package project

import (
	"fmt"
	"slices"
	"testing"
)

// createActions are, per resource type of template.yaml (SAM's types as they translate),
// the calls CloudFormation makes with its execution role to create one.
var createActions = map[string][]string{
	"AWS::Serverless::Function":   {"lambda:CreateFunction", "s3:GetObject", "iam:CreateRole", "iam:AttachRolePolicy", "iam:PassRole", "lambda:AddPermission"},
	"AWS::Lambda::Permission":     {"lambda:AddPermission"},
	"AWS::Serverless::HttpApi":    {"apigateway:POST"},
	"AWS::Logs::LogGroup":         {"logs:CreateLogGroup", "logs:PutRetentionPolicy"},
	"AWS::Logs::MetricFilter":     {"logs:PutMetricFilter"},
	"AWS::CloudWatch::Alarm":      {"cloudwatch:PutMetricAlarm"},
	"AWS::CloudWatch::Dashboard":  {"cloudwatch:PutDashboard"},
	"AWS::DynamoDB::Table":        {"dynamodb:CreateTable", "dynamodb:UpdateTimeToLive", "dynamodb:UpdateContinuousBackups"},
	"AWS::IAM::ManagedPolicy":     {"iam:CreatePolicy"},
	"AWS::SecretsManager::Secret": {"secretsmanager:CreateSecret", "secretsmanager:GetRandomPassword"},
	"AWS::SES::ConfigurationSet":  {"ses:CreateConfigurationSet", "ses:PutConfigurationSetSuppressionOptions", "ses:PutConfigurationSetReputationOptions", "ses:PutConfigurationSetSendingOptions"},
	"AWS::SES::EmailIdentity":     {"ses:CreateEmailIdentity"},
	"AWS::SNS::Topic":             {"sns:CreateTopic", "sns:Subscribe"},
}

// TestExecutionRoleCreatesEveryResource: the CloudFormation execution role of
// infra/deploy/github-oidc.yaml may make the calls that create every resource type of
// template.yaml, reading the code zips from SAM's artifact bucket included.
func TestExecutionRoleCreatesEveryResource(t *testing.T) {
	root, _ := repo(t)
	read := func(name string, v any) { readYAML(t, root, name, v) }
	var app struct {
		Resources map[string]struct {
			Type string `yaml:"Type"`
		} `yaml:"Resources"`
	}
	read("template.yaml", &app)
	var deploy struct {
		Resources struct {
			Role struct {
				Properties struct {
					Policies []struct {
						PolicyDocument struct {
							Statement []struct {
								Sid      string `yaml:"Sid"`
								Action   any    `yaml:"Action"`
								Resource any    `yaml:"Resource"`
							} `yaml:"Statement"`
						} `yaml:"PolicyDocument"`
					} `yaml:"Policies"`
				} `yaml:"Properties"`
			} `yaml:"CloudFormationExecutionRole"`
		} `yaml:"Resources"`
	}
	read("infra/deploy/github-oidc.yaml", &deploy)
	allowed := map[string][]string{} // action -> its statements' resources
	for _, p := range deploy.Resources.Role.Properties.Policies {
		for _, st := range p.PolicyDocument.Statement {
			actions, _ := st.Action.([]any)
			if a, ok := st.Action.(string); ok {
				actions = []any{a}
			}
			for _, a := range actions {
				allowed[a.(string)] = append(allowed[a.(string)], fmt.Sprint(st.Resource))
			}
		}
	}
	types := map[string]bool{}
	for _, r := range app.Resources {
		types[r.Type] = true
	}
	for typ := range types {
		need, ok := createActions[typ]
		if !ok {
			t.Errorf("%s: a resource type this test does not know; add the calls that create it (and the execution role's permissions)", typ)
			continue
		}
		for _, a := range need {
			if allowed[a] == nil {
				t.Errorf("%s: the execution role may not %s", typ, a)
			}
		}
	}
	if !slices.ContainsFunc(allowed["s3:GetObject"], func(r string) bool {
		return r == "arn:${AWS::Partition}:s3:::aws-sam-cli-managed-default-samclisourcebucket-*/${StackPrefix}-*"
	}) {
		t.Errorf("s3:GetObject on %v, want the artifact bucket's ${StackPrefix}-* objects (samconfig.toml's s3_prefix)", allowed["s3:GetObject"])
	}
}
