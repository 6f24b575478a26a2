package e2e

import "encoding/base64"

// Basic is an Authorization header of the Basic scheme: "Basic " + base64(user:secret).
func Basic(user, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+secret))
}
