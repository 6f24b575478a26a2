package dynamo

import (
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// GSI1 is the index that lists accounts sorted by canonical username.
const GSI1 = "GSI1"

// Key values (the item layout is in the package doc).
const (
	skAccount     = "ACCOUNT"
	skOTP         = "OTP"
	skUsername    = "USERNAME"
	skEmail       = "EMAIL"
	skReset       = "RESET"
	sessionPrefix = "SESSION#"
	accountsGSIPK = "ACCOUNTS"
	counterPK     = "COUNTER"
	counterSK     = "USER_ID"
)

func userPK(id int64) string       { return "USER#" + strconv.FormatInt(id, 10) }
func usernamePK(key string) string { return "USERNAME#" + key }
func emailPK(key string) string    { return "EMAIL#" + key }
func resetPK(hash string) string   { return "RESET#" + hash }
func sessionSK(hash string) string { return sessionPrefix + hash }

func key(p, k string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{pk: s(p), sk: s(k)}
}

func accountKey(id int64) map[string]types.AttributeValue { return key(userPK(id), skAccount) }
func otpKey(id int64) map[string]types.AttributeValue     { return key(userPK(id), skOTP) }
func usernameKey(k string) map[string]types.AttributeValue {
	return key(usernamePK(k), skUsername)
}
func emailKey(k string) map[string]types.AttributeValue { return key(emailPK(k), skEmail) }
func resetKey(hash string) map[string]types.AttributeValue {
	return key(resetPK(hash), skReset)
}

// keyOf is the primary key of an item read with it.
func keyOf(it map[string]types.AttributeValue) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{pk: it[pk], sk: it[sk]}
}
