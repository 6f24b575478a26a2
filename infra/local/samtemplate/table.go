package samtemplate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"gopkg.in/yaml.v3"
)

// Table is one AWS::DynamoDB::Table resource.
type Table struct {
	LogicalID  string
	Properties TableProperties
}

// TableProperties are the table properties that matter locally. Point-in-time recovery,
// encryption, tags and the like are deliberately left out: DynamoDB Local has no use for them.
type TableProperties struct {
	BillingMode             string                   `yaml:"BillingMode"`
	AttributeDefinitions    []AttributeDefinition    `yaml:"AttributeDefinitions"`
	KeySchema               []KeySchemaElement       `yaml:"KeySchema"`
	GlobalSecondaryIndexes  []SecondaryIndex         `yaml:"GlobalSecondaryIndexes"`
	LocalSecondaryIndexes   []SecondaryIndex         `yaml:"LocalSecondaryIndexes"`
	ProvisionedThroughput   *ProvisionedThroughput   `yaml:"ProvisionedThroughput"`
	TimeToLiveSpecification *TimeToLiveSpecification `yaml:"TimeToLiveSpecification"`
	StreamSpecification     *StreamSpecification     `yaml:"StreamSpecification"`
}

// AttributeDefinition is a key attribute's name and type (S, N or B).
type AttributeDefinition struct {
	AttributeName string `yaml:"AttributeName"`
	AttributeType string `yaml:"AttributeType"`
}

// KeySchemaElement is one key attribute and its role (HASH or RANGE).
type KeySchemaElement struct {
	AttributeName string `yaml:"AttributeName"`
	KeyType       string `yaml:"KeyType"`
}

// SecondaryIndex is a global or local secondary index.
type SecondaryIndex struct {
	IndexName             string                 `yaml:"IndexName"`
	KeySchema             []KeySchemaElement     `yaml:"KeySchema"`
	Projection            Projection             `yaml:"Projection"`
	ProvisionedThroughput *ProvisionedThroughput `yaml:"ProvisionedThroughput"`
}

// Projection says which attributes an index copies.
type Projection struct {
	ProjectionType   string   `yaml:"ProjectionType"`
	NonKeyAttributes []string `yaml:"NonKeyAttributes"`
}

// ProvisionedThroughput is used only when BillingMode is PROVISIONED.
type ProvisionedThroughput struct {
	ReadCapacityUnits  int64 `yaml:"ReadCapacityUnits"`
	WriteCapacityUnits int64 `yaml:"WriteCapacityUnits"`
}

// TimeToLiveSpecification names the TTL attribute.
type TimeToLiveSpecification struct {
	AttributeName string `yaml:"AttributeName"`
	Enabled       bool   `yaml:"Enabled"`
}

// StreamSpecification enables a DynamoDB stream.
type StreamSpecification struct {
	StreamViewType string `yaml:"StreamViewType"`
}

func parseTable(id string, props *yaml.Node) (Table, error) {
	t := Table{LogicalID: id}
	if props == nil {
		return t, errors.New("no Properties")
	}
	if err := props.Decode(&t.Properties); err != nil {
		return t, err
	}
	if len(t.Properties.KeySchema) == 0 {
		return t, nodeErr(props, "no KeySchema")
	}
	return t, nil
}

// tableWaitTimeout bounds the wait for a table or index to become ACTIVE when ctx has no
// deadline; DynamoDB Local is ACTIVE at once, so hitting it means something is wrong.
const tableWaitTimeout = 60 * time.Second

// CreateTable makes sure table logicalID of tmpl exists as tableName: it creates the table
// from the template's definition if it does not exist; if it does (an old local data
// folder), it adds the global secondary indexes the template has and the table lacks, so
// the data keeps working after the template grows an index. It enables TTL as the template
// says and returns once the table and its indexes are ACTIVE.
func CreateTable(ctx context.Context, client *dynamodb.Client, tmpl *Template, logicalID, tableName string) error {
	tb, ok := tmpl.Table(logicalID)
	if !ok {
		return fmt.Errorf("template has no AWS::DynamoDB::Table %s", logicalID)
	}
	if _, hasDeadline := ctx.Deadline(); !hasDeadline {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, tableWaitTimeout)
		defer cancel()
	}
	p := tb.Properties

	desc, err := describeTable(ctx, client, tableName)
	if err != nil {
		return err
	}
	if desc == nil {
		if err := createTable(ctx, client, tableName, p); err != nil {
			return err
		}
	} else if err := addMissingIndexes(ctx, client, tableName, p, desc); err != nil {
		return err
	}
	if _, err := waitActive(ctx, client, tableName); err != nil {
		return err
	}
	return ensureTTL(ctx, client, tableName, p.TimeToLiveSpecification)
}

// describeTable returns nil, nil when the table does not exist.
func describeTable(ctx context.Context, client *dynamodb.Client, name string) (*types.TableDescription, error) {
	out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	var notFound *types.ResourceNotFoundException
	if errors.As(err, &notFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe table %s: %w", name, err)
	}
	return out.Table, nil
}

func createTable(ctx context.Context, client *dynamodb.Client, name string, p TableProperties) error {
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: attributeDefinitions(p.AttributeDefinitions),
		KeySchema:            keySchema(p.KeySchema),
	}
	provisioned := p.BillingMode == "PROVISIONED" || (p.BillingMode == "" && p.ProvisionedThroughput != nil)
	if provisioned {
		in.BillingMode = types.BillingModeProvisioned
		in.ProvisionedThroughput = throughput(p.ProvisionedThroughput)
	} else {
		in.BillingMode = types.BillingModePayPerRequest
	}
	for _, gsi := range p.GlobalSecondaryIndexes {
		g := types.GlobalSecondaryIndex{
			IndexName:  aws.String(gsi.IndexName),
			KeySchema:  keySchema(gsi.KeySchema),
			Projection: projection(gsi.Projection),
		}
		if provisioned {
			g.ProvisionedThroughput = throughput(gsi.ProvisionedThroughput)
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, g)
	}
	for _, lsi := range p.LocalSecondaryIndexes {
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, types.LocalSecondaryIndex{
			IndexName:  aws.String(lsi.IndexName),
			KeySchema:  keySchema(lsi.KeySchema),
			Projection: projection(lsi.Projection),
		})
	}
	if s := p.StreamSpecification; s != nil && s.StreamViewType != "" {
		in.StreamSpecification = &types.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: types.StreamViewType(s.StreamViewType),
		}
	}
	_, err := client.CreateTable(ctx, in)
	var inUse *types.ResourceInUseException
	if errors.As(err, &inUse) {
		return nil // created concurrently by another stack sharing this DynamoDB
	}
	if err != nil {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	return nil
}

// addMissingIndexes creates, one UpdateTable at a time as DynamoDB requires, every GSI of
// the template that the existing table lacks.
func addMissingIndexes(ctx context.Context, client *dynamodb.Client, name string, p TableProperties, desc *types.TableDescription) error {
	have := map[string]bool{}
	for _, g := range desc.GlobalSecondaryIndexes {
		have[aws.ToString(g.IndexName)] = true
	}
	for _, gsi := range p.GlobalSecondaryIndexes {
		if have[gsi.IndexName] {
			continue
		}
		if _, err := waitActive(ctx, client, name); err != nil {
			return err
		}
		create := &types.CreateGlobalSecondaryIndexAction{
			IndexName:  aws.String(gsi.IndexName),
			KeySchema:  keySchema(gsi.KeySchema),
			Projection: projection(gsi.Projection),
		}
		if desc.BillingModeSummary == nil || desc.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
			if desc.ProvisionedThroughput != nil && aws.ToInt64(desc.ProvisionedThroughput.ReadCapacityUnits) > 0 {
				create.ProvisionedThroughput = throughput(gsi.ProvisionedThroughput)
			}
		}
		_, err := client.UpdateTable(ctx, &dynamodb.UpdateTableInput{
			TableName:                   aws.String(name),
			AttributeDefinitions:        indexAttributes(p.AttributeDefinitions, gsi.KeySchema),
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: create}},
		})
		if err != nil {
			return fmt.Errorf("add index %s to table %s: %w", gsi.IndexName, name, err)
		}
	}
	return nil
}

// waitActive polls until the table and all its indexes are ACTIVE.
func waitActive(ctx context.Context, client *dynamodb.Client, name string) (*types.TableDescription, error) {
	for {
		desc, err := describeTable(ctx, client, name)
		if err != nil {
			return nil, err
		}
		if desc != nil && isActive(desc) {
			return desc, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for table %s to become ACTIVE: %w", name, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func isActive(desc *types.TableDescription) bool {
	if desc.TableStatus != types.TableStatusActive {
		return false
	}
	for _, g := range desc.GlobalSecondaryIndexes {
		if g.IndexStatus != types.IndexStatusActive {
			return false
		}
	}
	return true
}

func ensureTTL(ctx context.Context, client *dynamodb.Client, name string, spec *TimeToLiveSpecification) error {
	if spec == nil || !spec.Enabled || spec.AttributeName == "" {
		return nil
	}
	out, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		return fmt.Errorf("describe TTL of table %s: %w", name, err)
	}
	if d := out.TimeToLiveDescription; d != nil &&
		(d.TimeToLiveStatus == types.TimeToLiveStatusEnabled || d.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		return nil
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(spec.AttributeName),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("enable TTL on table %s: %w", name, err)
	}
	return nil
}

func attributeDefinitions(in []AttributeDefinition) []types.AttributeDefinition {
	out := make([]types.AttributeDefinition, 0, len(in))
	for _, a := range in {
		out = append(out, types.AttributeDefinition{
			AttributeName: aws.String(a.AttributeName),
			AttributeType: types.ScalarAttributeType(a.AttributeType),
		})
	}
	return out
}

// indexAttributes returns the definitions of the attributes an index's key uses: UpdateTable
// rejects definitions of attributes that no key uses.
func indexAttributes(defs []AttributeDefinition, ks []KeySchemaElement) []types.AttributeDefinition {
	var used []AttributeDefinition
	for _, d := range defs {
		for _, k := range ks {
			if k.AttributeName == d.AttributeName {
				used = append(used, d)
				break
			}
		}
	}
	return attributeDefinitions(used)
}

func keySchema(in []KeySchemaElement) []types.KeySchemaElement {
	out := make([]types.KeySchemaElement, 0, len(in))
	for _, k := range in {
		out = append(out, types.KeySchemaElement{
			AttributeName: aws.String(k.AttributeName),
			KeyType:       types.KeyType(k.KeyType),
		})
	}
	return out
}

func projection(p Projection) *types.Projection {
	out := &types.Projection{ProjectionType: types.ProjectionType(p.ProjectionType)}
	if p.ProjectionType == "" {
		out.ProjectionType = types.ProjectionTypeAll
	}
	if len(p.NonKeyAttributes) > 0 {
		out.NonKeyAttributes = p.NonKeyAttributes
	}
	return out
}

func throughput(p *ProvisionedThroughput) *types.ProvisionedThroughput {
	if p == nil {
		// CloudFormation would reject this; DynamoDB Local just needs some numbers.
		p = &ProvisionedThroughput{ReadCapacityUnits: 5, WriteCapacityUnits: 5}
	}
	return &types.ProvisionedThroughput{
		ReadCapacityUnits:  aws.Int64(p.ReadCapacityUnits),
		WriteCapacityUnits: aws.Int64(p.WriteCapacityUnits),
	}
}
