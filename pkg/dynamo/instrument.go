package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/gatehouse/gatehouse/pkg/invocation"
)

// instrument adds two middlewares to the client: one counts every HTTP round trip (retries
// included); the other times each operation as a whole (serializing, signing, sending,
// retrying, decoding: all of it is DynamoDB's share of a request) and asks DynamoDB for the
// capacity it consumed (free of charge). Both report to the invocation's measurement.
func instrument(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		if err := s.Initialize.Add(middleware.InitializeMiddlewareFunc("gatehouse/capacity", capacity), middleware.Before); err != nil {
			return err
		}
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("gatehouse/roundtrips", roundTrip), middleware.After)
	})
}

func roundTrip(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	invocation.From(ctx).AddDynamoCall()
	return next.HandleFinalize(ctx, in)
}

func capacity(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	total := types.ReturnConsumedCapacityTotal
	write := true
	switch p := in.Parameters.(type) {
	case *dynamodb.GetItemInput:
		p.ReturnConsumedCapacity, write = total, false
	case *dynamodb.BatchGetItemInput:
		p.ReturnConsumedCapacity, write = total, false
	case *dynamodb.QueryInput:
		p.ReturnConsumedCapacity, write = total, false
	case *dynamodb.PutItemInput:
		p.ReturnConsumedCapacity = total
	case *dynamodb.UpdateItemInput:
		p.ReturnConsumedCapacity = total
	case *dynamodb.DeleteItemInput:
		p.ReturnConsumedCapacity = total
	case *dynamodb.BatchWriteItemInput:
		p.ReturnConsumedCapacity = total
	case *dynamodb.TransactWriteItemsInput:
		p.ReturnConsumedCapacity = total
	}
	start := time.Now()
	out, md, err := next.HandleInitialize(ctx, in)
	invocation.From(ctx).AddDynamoTime(time.Since(start))
	if err == nil {
		units := consumed(out.Result)
		// DynamoDB bills a transactional write at two units per item (of up to 1 KB, which
		// every Gatehouse item is); DynamoDB Local reports less, so count it as billed.
		if tx, ok := in.Parameters.(*dynamodb.TransactWriteItemsInput); ok {
			units = float64(2 * len(tx.TransactItems))
		}
		if write {
			invocation.From(ctx).AddCapacity(0, units)
		} else {
			invocation.From(ctx).AddCapacity(units, 0)
		}
	}
	return out, md, err
}

func consumed(result any) float64 {
	var ccs []types.ConsumedCapacity
	switch r := result.(type) {
	case *dynamodb.GetItemOutput:
		ccs = one(r.ConsumedCapacity)
	case *dynamodb.QueryOutput:
		ccs = one(r.ConsumedCapacity)
	case *dynamodb.PutItemOutput:
		ccs = one(r.ConsumedCapacity)
	case *dynamodb.UpdateItemOutput:
		ccs = one(r.ConsumedCapacity)
	case *dynamodb.DeleteItemOutput:
		ccs = one(r.ConsumedCapacity)
	case *dynamodb.BatchGetItemOutput:
		ccs = r.ConsumedCapacity
	case *dynamodb.BatchWriteItemOutput:
		ccs = r.ConsumedCapacity
	case *dynamodb.TransactWriteItemsOutput:
		ccs = r.ConsumedCapacity
	}
	var sum float64
	for _, c := range ccs {
		sum += aws.ToFloat64(c.CapacityUnits)
	}
	return sum
}

func one(c *types.ConsumedCapacity) []types.ConsumedCapacity {
	if c == nil {
		return nil
	}
	return []types.ConsumedCapacity{*c}
}
