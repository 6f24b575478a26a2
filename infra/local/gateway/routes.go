package gateway

import (
	"errors"
	"fmt"
	"strings"
)

// DefaultRoute is the path of an HTTP API's catch-all route; its route key is "$default".
const DefaultRoute = "$default"

type segmentKind int

// Ordered by priority: API Gateway prefers a literal segment to a path variable, and a
// path variable to a greedy one.
const (
	segGreedy segmentKind = iota
	segParam
	segLiteral
)

type segment struct {
	kind  segmentKind
	value string // the literal, or the variable's name
}

// route is a compiled Route.
type route struct {
	Route
	key      string
	segments []segment // nil for $default
}

func compileRoute(r Route) (*route, error) {
	if r.Function == nil {
		return nil, fmt.Errorf("route %s %s has no function", r.Method, r.Path)
	}
	method := strings.ToUpper(r.Method)
	if method == "" || method == "*" {
		method = "ANY"
	}
	cr := &route{Route: r}
	cr.Method = method
	if r.Path == DefaultRoute {
		cr.key = DefaultRoute
		return cr, nil
	}
	cr.key = method + " " + r.Path
	if !strings.HasPrefix(r.Path, "/") {
		return nil, fmt.Errorf("route %s: path must start with /", cr.key)
	}
	if r.Path == "/" {
		return cr, nil // no segments: matches only the root
	}
	parts := strings.Split(r.Path[1:], "/")
	for i, p := range parts {
		s, err := parseSegment(p)
		if err != nil {
			return nil, fmt.Errorf("route %s: %w", cr.key, err)
		}
		if s.kind == segGreedy && i != len(parts)-1 {
			return nil, fmt.Errorf("route %s: a greedy variable must be the last segment", cr.key)
		}
		cr.segments = append(cr.segments, s)
	}
	return cr, nil
}

func parseSegment(p string) (segment, error) {
	if !strings.HasPrefix(p, "{") {
		if strings.ContainsAny(p, "{}") {
			return segment{}, fmt.Errorf("segment %q: a path variable must be a whole segment", p)
		}
		return segment{kind: segLiteral, value: p}, nil
	}
	name, ok := strings.CutSuffix(p[1:], "}")
	if !ok || name == "" || name == "+" || strings.ContainsAny(name, "{}") {
		return segment{}, fmt.Errorf("segment %q is not a valid path variable", p)
	}
	if greedy, ok := strings.CutSuffix(name, "+"); ok {
		return segment{kind: segGreedy, value: greedy}, nil
	}
	return segment{kind: segParam, value: name}, nil
}

// match reports whether path (decoded, as API Gateway routes on it) fits the route, and
// returns the path variables.
func (r *route) match(path string) (map[string]string, bool) {
	if r.Path == DefaultRoute {
		return nil, true
	}
	if !strings.HasPrefix(path, "/") {
		return nil, false
	}
	if len(r.segments) == 0 {
		return nil, path == "/"
	}
	rest := path[1:]
	var params map[string]string
	for i, s := range r.segments {
		if s.kind == segGreedy {
			if rest == "" {
				return nil, false
			}
			return setParam(params, s.value, rest), true
		}
		seg, tail, more := strings.Cut(rest, "/")
		last := i == len(r.segments)-1
		if last == more {
			return nil, false // path has more segments than the route, or fewer
		}
		switch s.kind {
		case segLiteral:
			if seg != s.value {
				return nil, false
			}
		case segParam:
			if seg == "" {
				return nil, false
			}
			params = setParam(params, s.value, seg)
		}
		rest = tail
	}
	return params, true
}

func setParam(m map[string]string, k, v string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[k] = v
	return m
}

// moreSpecific reports whether a should win over b when both match a request: the first
// segment where they differ decides (literal over variable over greedy), then a route
// for the exact method beats ANY, and $default loses to everything.
func moreSpecific(a, b *route) bool {
	if (a.Path == DefaultRoute) != (b.Path == DefaultRoute) {
		return b.Path == DefaultRoute
	}
	for i := 0; i < len(a.segments) && i < len(b.segments); i++ {
		if a.segments[i].kind != b.segments[i].kind {
			return a.segments[i].kind > b.segments[i].kind
		}
	}
	if len(a.segments) != len(b.segments) {
		// Only a greedy variable lets routes of different lengths match one path; the
		// longer route has fixed segments where the shorter is greedy.
		return len(a.segments) > len(b.segments)
	}
	return a.Method != "ANY" && b.Method == "ANY"
}

// routeTable finds the route for a request.
type routeTable struct {
	routes []*route
}

func newRouteTable(routes []Route) (*routeTable, error) {
	t := &routeTable{}
	seen := map[string]bool{}
	var errs []error
	for _, r := range routes {
		cr, err := compileRoute(r)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if seen[cr.key] {
			errs = append(errs, fmt.Errorf("route %s is defined twice", cr.key))
			continue
		}
		seen[cr.key] = true
		t.routes = append(t.routes, cr)
	}
	return t, errors.Join(errs...)
}

// lookup returns the most specific route for method and path, or nil.
func (t *routeTable) lookup(method, path string) (*route, map[string]string) {
	var best *route
	var bestParams map[string]string
	for _, r := range t.routes {
		if r.Method != "ANY" && r.Method != method {
			continue
		}
		params, ok := r.match(path)
		if !ok {
			continue
		}
		if best == nil || moreSpecific(r, best) {
			best, bestParams = r, params
		}
	}
	return best, bestParams
}
