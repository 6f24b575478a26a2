package users

import (
	"errors"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/pkg/apigw"
)

// params decodes the request's parameters — the query string on GET, else the body — or
// answers the family's body error.
func params(req *events.APIGatewayV2HTTPRequest) (apigw.Params, error) {
	if strings.EqualFold(req.RequestContext.HTTP.Method, http.MethodGet) {
		q, err := apigw.Query(req)
		if err != nil {
			return nil, invalid("query", "not a valid query string")
		}
		p, err := apigw.FromQuery(q)
		if err != nil {
			return nil, invalid("query", "not a valid query string")
		}
		return p, nil
	}
	p, err := apigw.DecodeParams(req)
	if errors.Is(err, apigw.ErrBodyTooLarge) {
		return nil, refuse(http.StatusRequestEntityTooLarge, msgRequestTooLarge)
	}
	if err != nil {
		return nil, invalid("body", "not a JSON object or form")
	}
	return p, nil
}

// param returns a string parameter, or the INVALID_INPUT answer naming it: absent or
// null is "required", "" is "must not be empty", and a number, boolean, object or array
// is no string. numeric lets a JSON number through as its literal (a client may well send
// an OTP as one).
func param(p apigw.Params, name string, numeric bool) (string, error) {
	v := p.Get(name)
	switch {
	case v.Kind == apigw.Absent || v.Kind == apigw.Null:
		return "", invalid(name, "required")
	case v.Kind == apigw.String && v.Text == "":
		return "", invalid(name, "must not be empty")
	case v.Kind == apigw.String || (numeric && v.Kind == apigw.Number):
		return v.Text, nil
	}
	return "", invalid(name, "must be a string")
}

// required returns the named string parameters, or the answer for the first bad one.
func required(p apigw.Params, names ...string) ([]string, error) {
	vals := make([]string, len(names))
	for i, n := range names {
		v, err := param(p, n, false)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	return vals, nil
}

// requiredParams decodes the parameters (params) and returns them with the named string
// parameters (required).
func requiredParams(req *events.APIGatewayV2HTTPRequest, names ...string) (apigw.Params, []string, error) {
	p, err := params(req)
	if err != nil {
		return nil, nil, err
	}
	v, err := required(p, names...)
	return p, v, err
}

// otpParam reads the code as "OTP" (the seed's name) or "otp" (what MMDL's front end
// sends). Both may be given only with the same value: which one to try would be a guess.
func otpParam(p apigw.Params) (string, error) {
	upper, lower := p.Get("OTP"), p.Get("otp")
	switch {
	case upper.Kind == apigw.Absent && lower.Kind != apigw.Absent:
		return param(p, "otp", true)
	case upper.Kind != apigw.Absent && lower.Kind != apigw.Absent:
		u, err := param(p, "OTP", true)
		if err != nil {
			return "", err
		}
		l, err := param(p, "otp", true)
		if err != nil {
			return "", err
		}
		if u != l {
			return "", invalid("OTP", "given twice with different values")
		}
		return u, nil
	}
	return param(p, "OTP", true)
}
