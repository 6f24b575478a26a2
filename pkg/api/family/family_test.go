package family

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/gatehouse/gatehouse/pkg/account"
	"github.com/gatehouse/gatehouse/pkg/apigw"
)

// table answers one domain code; everything else is a fault.
func table(e *account.Error) (apigw.Response, bool) {
	if e.Code == account.CodeNotFound {
		return apigw.JSON(http.StatusNotFound, map[string]string{"error": "no such user"}), true
	}
	return apigw.Response{}, false
}

func serverError() apigw.Response {
	return apigw.JSON(http.StatusInternalServerError, map[string]string{"error": "internal"})
}

// clockHasher is a hasher whose every call "spends" 5 ms without taking any time.
type clockHasher struct {
	account.Hasher
	spent time.Duration
}

func (h *clockHasher) Spent() time.Duration { return h.spent }
func (h *clockHasher) Hash(string) (string, error) {
	h.spent += 5 * time.Millisecond
	return "hash", nil
}

func base(log *bytes.Buffer, hasher account.Hasher) Base {
	svc := account.NewService(nil, hasher, nil, account.Config{}, nil)
	return New(svc, slog.New(slog.NewJSONHandler(log, nil)), table, serverError)
}

func TestAnswer(t *testing.T) {
	var log bytes.Buffer
	b := base(&log, nil)
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		err    error
		status int
		body   string
	}{
		{"refusal answers itself", Refuse(apigw.JSON(http.StatusBadRequest, map[string]string{"error": "bad body"})), 400, `{"error":"bad body"}`},
		{"wrapped refusal", errors.Join(errors.New("context"), Refuse(apigw.JSON(http.StatusTeapot, 1))), 418, `1`},
		{"domain error through the table", account.ErrNotFound, 404, `{"error":"no such user"}`},
		{"fault is the server error", account.Internal("store: secret detail"), 500, `{"error":"internal"}`},
		{"foreign error is a fault", errors.New("other secret detail"), 500, `{"error":"internal"}`},
	} {
		r := b.Answer(ctx, tc.err)
		if r.StatusCode != tc.status || r.Body != tc.body {
			t.Errorf("%s: %d %s, want %d %s", tc.name, r.StatusCode, r.Body, tc.status, tc.body)
		}
	}
	if n := bytes.Count(log.Bytes(), []byte(`"msg":"request failed"`)); n != 2 {
		t.Errorf("%d faults logged, want 2:\n%s", n, log.String())
	}
	if !bytes.Contains(log.Bytes(), []byte("secret detail")) {
		t.Errorf("fault detail not logged:\n%s", log.String())
	}
}

func TestLambdaReportsHashTime(t *testing.T) {
	var log bytes.Buffer
	hasher := &clockHasher{}
	b := base(&log, hasher)
	route := func(ctx context.Context, _ *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
		_, _ = b.Svc.Hasher.Hash("one")
		_, _ = b.Svc.Hasher.Hash("two")
		return apigw.JSON(http.StatusOK, true), nil
	}
	hasher.spent = time.Hour // earlier requests' hashes are not this one's
	resp, err := b.Lambda(route)(context.Background(), events.APIGatewayV2HTTPRequest{})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %d", err, resp.StatusCode)
	}
	var line struct {
		KDF float64 `json:"kdf_ms"`
	}
	if err := json.Unmarshal(log.Bytes(), &line); err != nil {
		t.Fatalf("%v: %s", err, log.String())
	}
	if line.KDF != 10 {
		t.Fatalf("kdf_ms %v, want 10", line.KDF)
	}
}

func TestLambdaAnswersRouteErrors(t *testing.T) {
	var log bytes.Buffer
	b := base(&log, nil)
	resp, err := b.Lambda(func(context.Context, *events.APIGatewayV2HTTPRequest) (apigw.Response, error) {
		return apigw.Response{}, account.ErrNotFound
	})(context.Background(), events.APIGatewayV2HTTPRequest{})
	if err != nil || resp.StatusCode != 404 {
		t.Fatalf("%v %d %s", err, resp.StatusCode, resp.Body)
	}
}
