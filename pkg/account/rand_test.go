package account_test

import "crypto/rand"

var cryptoRand = rand.Reader
