package apigw

// pairedSurrogates reports whether every \u escape of a UTF-16 surrogate in the JSON text
// body is a high surrogate immediately followed by an escaped low one. encoding/json turns
// an unpaired surrogate into U+FFFD without a word, so "\ud800abc" and "\udbffabc" would
// decode to one and the same password; such a body is refused instead of repaired.
// Anything else malformed is left to the decoder.
func pairedSurrogates(body []byte) bool {
	inString := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !inString {
			inString = c == '"'
			continue
		}
		switch c {
		case '"':
			inString = false
		case '\\':
			if i+1 >= len(body) {
				return true
			}
			i++
			if body[i] != 'u' {
				continue
			}
			u, ok := hex4(body, i+1)
			if !ok {
				continue
			}
			i += 4
			switch {
			case u >= 0xDC00 && u <= 0xDFFF:
				return false // a low surrogate with no high one before it
			case u >= 0xD800 && u <= 0xDBFF:
				if i+2 >= len(body) || body[i+1] != '\\' || body[i+2] != 'u' {
					return false
				}
				lo, ok := hex4(body, i+3)
				if !ok || lo < 0xDC00 || lo > 0xDFFF {
					return false
				}
				i += 6
			}
		}
	}
	return true
}

// hex4 reads the four hex digits at b[i:i+4].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
