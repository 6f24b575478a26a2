package gateway

import (
	"net/http"
	"strconv"
	"strings"
)

// CORS is an HTTP API's CorsConfiguration. When set, the gateway answers preflight
// requests itself, whatever the routes, and puts the CORS headers on every answer to an
// allowed origin, replacing any the function sent, as API Gateway does.
type CORS struct {
	// AllowOrigins are exact origins (scheme://host[:port]) or "*".
	AllowOrigins     []string
	AllowMethods     []string
	AllowHeaders     []string
	ExposeHeaders    []string
	MaxAge           int // seconds; 0 sends no Access-Control-Max-Age
	AllowCredentials bool
}

// allowedOrigin returns the value of Access-Control-Allow-Origin for origin, or "" when
// the origin may not call the API.
func (c *CORS) allowedOrigin(origin string) string {
	if origin == "" {
		return ""
	}
	for _, o := range c.AllowOrigins {
		if o == "*" {
			// A credentialed request needs the origin itself; "*" is refused by browsers.
			if c.AllowCredentials {
				return origin
			}
			return "*"
		}
		// Scheme and host are case-insensitive; browsers send them lower case.
		if strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return origin
		}
	}
	return ""
}

// isPreflight reports a CORS preflight: OPTIONS with Origin and
// Access-Control-Request-Method.
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" &&
		r.Header.Get("Access-Control-Request-Method") != ""
}

// preflight answers a preflight request: 204 with no body, with the Access-Control
// headers only for an allowed origin (the browser then refuses the real request).
func (c *CORS) preflight(w http.ResponseWriter, r *http.Request) int {
	h := w.Header()
	if allow := c.allowedOrigin(r.Header.Get("Origin")); allow != "" {
		h.Set("Access-Control-Allow-Origin", allow)
		if len(c.AllowMethods) > 0 {
			h.Set("Access-Control-Allow-Methods", strings.Join(c.AllowMethods, ","))
		}
		if len(c.AllowHeaders) > 0 {
			h.Set("Access-Control-Allow-Headers", strings.Join(c.AllowHeaders, ","))
		}
		if c.MaxAge > 0 {
			h.Set("Access-Control-Max-Age", strconv.Itoa(c.MaxAge))
		}
		if c.AllowCredentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return http.StatusNoContent
}

// corsWriter puts the CORS headers of an actual (non-preflight) answer in place just
// before the status line goes out.
type corsWriter struct {
	http.ResponseWriter
	cors        *CORS
	origin      string
	wroteHeader bool
}

func (cw *corsWriter) WriteHeader(status int) {
	if !cw.wroteHeader {
		cw.wroteHeader = true
		h := cw.Header()
		// With a CorsConfiguration, API Gateway ignores the integration's CORS headers.
		for name := range h {
			if strings.HasPrefix(strings.ToLower(name), "access-control-") {
				delete(h, name)
			}
		}
		if allow := cw.cors.allowedOrigin(cw.origin); allow != "" {
			h.Set("Access-Control-Allow-Origin", allow)
			if cw.cors.AllowCredentials {
				h.Set("Access-Control-Allow-Credentials", "true")
			}
			if len(cw.cors.ExposeHeaders) > 0 {
				h.Set("Access-Control-Expose-Headers", strings.Join(cw.cors.ExposeHeaders, ","))
			}
		}
	}
	cw.ResponseWriter.WriteHeader(status)
}

func (cw *corsWriter) Write(b []byte) (int, error) {
	if !cw.wroteHeader {
		cw.WriteHeader(http.StatusOK)
	}
	return cw.ResponseWriter.Write(b)
}
