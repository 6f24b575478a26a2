package user

import (
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/api/family"
	"github.com/gatehouse/gatehouse/pkg/apigw"
)

// params decodes the request body, or answers the family's body error. Every member the
// route reads must be a string, null or absent: any other JSON value makes the body
// invalid, before any field is validated.
func params(req *events.APIGatewayV2HTTPRequest, names ...string) (apigw.Params, error) {
	p, err := apigw.DecodeParams(req)
	if errors.Is(err, apigw.ErrBodyTooLarge) {
		return nil, family.Refuse(fail(http.StatusRequestEntityTooLarge, msgRequestTooLarge))
	}
	if err != nil || !stringsOnly(p, names...) {
		return nil, family.Refuse(badBody())
	}
	return p, nil
}

func stringsOnly(p apigw.Params, names ...string) bool {
	for _, n := range names {
		switch p.Get(n).Kind {
		case apigw.Absent, apigw.Null, apigw.String:
		default:
			return false
		}
	}
	return true
}

// isNull reports "null" in the seed's sense: the member is absent or JSON null.
func isNull(v apigw.Value) bool { return v.Kind == apigw.Absent || v.Kind == apigw.Null }

// optional returns a pointer to the parameter's string, nil when it is null.
func optional(v apigw.Value) *string {
	if isNull(v) {
		return nil
	}
	s := v.Text
	return &s
}

// check is one required field: the answer when it is null, and its own rule.
type check struct {
	v        apigw.Value
	nullMsg  string
	validate func(string) error
}

// firstFailure runs the checks in order, for each field null first, then its rule, and
// returns the first failure (nil when every field passes).
func firstFailure(checks ...check) error {
	for _, c := range checks {
		if isNull(c.v) {
			return family.Refuse(fail(http.StatusBadRequest, c.nullMsg))
		}
		if err := c.validate(c.v.Text); err != nil {
			return err
		}
	}
	return nil
}

func parseUsername(s string) error { _, err := account.ParseUsername(s); return err }
func parseEmail(s string) error    { _, err := account.ParseEmail(s); return err }
