package apigw

import "testing"

// MMDL's front end presents sessions as Basic base64(userhash:ssid) — with its own
// cookies USERHASH and SSID riding along when it shares an origin — and asks for an OTP
// with a query string. Events as API Gateway delivers them.
func TestDecodeMMDLEvents(t *testing.T) {
	req := loadEvent(t, "info-basic-mmdl.json")
	uh, ssid, ok := Basic(req)
	if !ok || uh != "2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90" || ssid != "AAAAAAAAAAEqZVAZfjS6WKuu7q7xYdqNW44l6XT5cAdIcjcgtgStrw" {
		t.Fatalf("basic %q %q %v", uh, ssid, ok)
	}
	// Cookie names are case-sensitive: MMDL's SSID cookie is not the shared ssid cookie.
	if v, ok := Cookie(req, "ssid"); ok {
		t.Fatalf("ssid cookie %q", v)
	}
	req = loadEvent(t, "requestotp-get-mmdl.json")
	q, err := Query(req)
	if err != nil {
		t.Fatal(err)
	}
	p, err := FromQuery(q)
	if u, _ := p.Get("username").Str(); err != nil || u != "alice" {
		t.Fatalf("query params %+v %v", p, err)
	}
}
