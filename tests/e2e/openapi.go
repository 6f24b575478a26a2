package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/helpers"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	"github.com/pb33f/libopenapi/datamodel/high/base"

	"github.com/gatehouse/gatehouse/infra/local/emulators"
)

// OpenAPIPath is the API's OpenAPI document, relative to the repository root.
const OpenAPIPath = "docs/openapi.yaml"

// apiCheck holds what the suite's exchanges were checked against, and the tally.
var apiCheck struct {
	v       validator.Validator
	gateway *base.Schema // API Gateway's own answers, for routes the document does not have
	// mu serialises validation: the library's caches are not safe for the concurrent
	// requests of Parallel.
	mu sync.Mutex

	requests, requestsRefused, answers atomic.Int64
	// unclaimed are failures of answers that no Do call reported to its test (a client
	// other than Do's); the run fails on them.
	unclaimedMu sync.Mutex
	unclaimed   []string
	// refused lists the requests the document refuses, with their answers' statuses; one
	// answered 2xx means the document is stricter than the service there (reported with
	// E2E_OPENAPI=verbose, not a failure).
	refused map[string]int
}

// loadOpenAPI builds the validator from the repository's document.
func loadOpenAPI() error {
	root, err := emulators.FindRepoRoot("")
	if err != nil {
		return err
	}
	spec, err := os.ReadFile(filepath.Join(root, OpenAPIPath))
	if err != nil {
		return err
	}
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		return fmt.Errorf("%s: %w", OpenAPIPath, err)
	}
	v, errs := validator.NewValidator(doc, config.WithURLEncodedBodyValidation(), config.WithFormatAssertions())
	if len(errs) > 0 {
		return fmt.Errorf("%s: %v", OpenAPIPath, errs)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		return fmt.Errorf("%s: %w", OpenAPIPath, err)
	}
	gw, ok := model.Model.Components.Schemas.Get("GatewayMessage")
	if !ok {
		return fmt.Errorf("%s: no components.schemas.GatewayMessage", OpenAPIPath)
	}
	apiCheck.v, apiCheck.gateway = v, gw.Schema()
	apiCheck.refused = map[string]int{}
	return nil
}

// checkedTransport validates every exchange with a gateway against the OpenAPI document:
// the request (a test may send a request the document refuses on purpose, so that only
// counts), and the answer, which must be one the document describes for that request.
type checkedTransport struct{ next http.RoundTripper }

type answerProblem struct{ text string }

type problemKey struct{}

func (c checkedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if apiCheck.v == nil || !isGateway(req) {
		return c.next.RoundTrip(req)
	}
	var reqBody []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		reqBody = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))

	problem := checkExchange(req, reqBody, resp, respBody)
	if slot, ok := req.Context().Value(problemKey{}).(*answerProblem); ok {
		slot.text = problem
	} else if problem != "" {
		apiCheck.unclaimedMu.Lock()
		apiCheck.unclaimed = append(apiCheck.unclaimed, problem)
		apiCheck.unclaimedMu.Unlock()
	}
	return resp, nil
}

// isGateway tells a request to a gateway of the stack from one to an emulator (the mail
// store, DynamoDB Local).
func isGateway(req *http.Request) bool {
	if Stack == nil {
		return false
	}
	u := req.URL.Scheme + "://" + req.URL.Host
	return u != Stack.SESEndpoint && u != Stack.DynamoEndpoint
}

// checkExchange validates one exchange and returns what is wrong with the answer ("" when
// nothing).
func checkExchange(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) string {
	apiCheck.mu.Lock()
	defer apiCheck.mu.Unlock()
	what := req.Method + " " + req.URL.Path
	clone := func() *http.Request {
		r := req.Clone(req.Context())
		r.Body = io.NopCloser(bytes.NewReader(reqBody))
		return r
	}
	apiCheck.requests.Add(1)
	apiCheck.answers.Add(1)
	reqOK, reqErrs := apiCheck.v.ValidateHttpRequestSync(clone())
	if unknownRoute(reqErrs) {
		// The document cannot list what does not exist: such a request is refused by it,
		// and its answer must be API Gateway's own.
		apiCheck.requestsRefused.Add(1)
		ok, errs := schema_validation.NewSchemaValidator().ValidateSchemaBytes(apiCheck.gateway, respBody)
		if resp.StatusCode != http.StatusNotFound || !ok {
			return fmt.Sprintf("%s (a route the document does not have): answer %d %s is not API Gateway's 404 %s", what, resp.StatusCode, respBody, describe(errs))
		}
		return ""
	}
	if !reqOK {
		apiCheck.requestsRefused.Add(1)
		apiCheck.refused[fmt.Sprintf("%s answered %d: %s", what, resp.StatusCode, describe(reqErrs))]++
	}
	r := &http.Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(respBody)), Request: req}
	if ok, errs := apiCheck.v.ValidateHttpResponse(clone(), r); !ok {
		return fmt.Sprintf("%s: answer %d %s is not in %s: %s", what, resp.StatusCode, respBody, OpenAPIPath, describe(errs))
	}
	return ""
}

// unknownRoute reports whether the validator found no path or no operation for the request.
func unknownRoute(errs []*verrors.ValidationError) bool {
	for _, e := range errs {
		if e.ValidationType == helpers.PathValidation &&
			(e.ValidationSubType == helpers.ValidationMissing || e.ValidationSubType == helpers.ValidationMissingOperation) {
			return true
		}
	}
	return false
}

func describe(errs []*verrors.ValidationError) string {
	var parts []string
	for _, e := range errs {
		s := e.Message
		if e.Reason != "" && e.Reason != e.Message {
			s += " (" + e.Reason + ")"
		}
		for _, f := range e.SchemaValidationErrors {
			s += "; " + f.Reason
			if f.FieldPath != "" {
				s += " at " + f.FieldPath
			}
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " | ")
}

// openAPISummary prints the tally of the suite and returns the failures no test reported.
func openAPISummary(suite string) []string {
	line := fmt.Sprintf("e2e %s: OpenAPI checked %d requests (%d refused by the document, as tests of bad input send on purpose) and %d answers\n",
		suite, apiCheck.requests.Load(), apiCheck.requestsRefused.Load(), apiCheck.answers.Load())
	fmt.Fprint(os.Stderr, line)
	// go test shows a passing package's output only with -v; make test collects the
	// tallies from this folder and prints them.
	if dir := os.Getenv("E2E_OPENAPI_REPORT"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err == nil {
			_ = os.WriteFile(filepath.Join(dir, suite+".txt"), []byte(line), 0o644)
		}
	}
	if os.Getenv("E2E_OPENAPI") == "verbose" {
		keys := make([]string, 0, len(apiCheck.refused))
		for k := range apiCheck.refused {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(os.Stderr, "e2e %s: refused by the document (x%d): %s\n", suite, apiCheck.refused[k], k)
		}
	}
	apiCheck.unclaimedMu.Lock()
	defer apiCheck.unclaimedMu.Unlock()
	return apiCheck.unclaimed
}
