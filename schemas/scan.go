package schemas

import (
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// maxSkipDepth bounds the nesting of JSON the scanner walks through (fields
// the decoder does not read). Deeper input is rejected rather than risking
// the goroutine stack.
const maxSkipDepth = 512

// syntaxError is a violation of RFC 8259 JSON (including invalid UTF-8) at
// a byte offset of the record value.
type syntaxError struct {
	offset int
	msg    string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.offset, e.msg)
}

// scanner is a strict, allocation-free JSON tokenizer over one record
// value. It never retains data beyond the current Decode call.
type scanner struct {
	data []byte
	pos  int
	// unescaped holds the content of the last string that contained
	// escapes; readString's result may point into it.
	unescaped []byte
}

func (s *scanner) reset(data []byte) {
	s.data = data
	s.pos = 0
}

func (s *scanner) errorf(format string, args ...any) *syntaxError {
	return &syntaxError{offset: s.pos, msg: fmt.Sprintf(format, args...)}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipWS advances past JSON whitespace.
func (s *scanner) skipWS() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peek skips whitespace and returns the next byte, or 0 at the end.
func (s *scanner) peek() byte {
	s.skipWS()
	if s.pos < len(s.data) {
		return s.data[s.pos]
	}
	return 0
}

// eof skips whitespace and reports whether the input is exhausted.
func (s *scanner) eof() bool {
	s.skipWS()
	return s.pos >= len(s.data)
}

// expect consumes c (after whitespace) or fails.
func (s *scanner) expect(c byte) error {
	if s.peek() != c {
		return s.unexpected(fmt.Sprintf("%q", c))
	}
	s.pos++
	return nil
}

// unexpected describes the byte at the current position.
func (s *scanner) unexpected(want string) *syntaxError {
	if s.pos >= len(s.data) {
		return s.errorf("unexpected end of input, want %s", want)
	}
	return s.errorf("unexpected %q, want %s", s.data[s.pos], want)
}

// next consumes the separator after an element of an object or array:
// it returns true when another element follows (a comma) and false at the
// closing byte.
func (s *scanner) next(closing byte) (bool, error) {
	switch s.peek() {
	case ',':
		s.pos++
		return true, nil
	case closing:
		s.pos++
		return false, nil
	}
	return false, s.unexpected(fmt.Sprintf("',' or %q", closing))
}

// openObject consumes '{' and reports whether the object has members.
func (s *scanner) openObject() (bool, error) {
	if err := s.expect('{'); err != nil {
		return false, err
	}
	if s.peek() == '}' {
		s.pos++
		return false, nil
	}
	return true, nil
}

// openArray consumes '[' and reports whether the array has elements.
func (s *scanner) openArray() (bool, error) {
	if err := s.expect('['); err != nil {
		return false, err
	}
	if s.peek() == ']' {
		s.pos++
		return false, nil
	}
	return true, nil
}

// readKey reads an object member name and the colon after it. The result is
// valid until the next readString or readKey.
func (s *scanner) readKey() ([]byte, error) {
	if s.peek() != '"' {
		return nil, s.unexpected("a string (object key)")
	}
	k, err := s.readString()
	if err != nil {
		return nil, err
	}
	if err := s.expect(':'); err != nil {
		return nil, err
	}
	return k, nil
}

// readString reads a JSON string at the current position (which must be a
// '"') and returns its content, unescaped and checked to be valid UTF-8.
// The result aliases the input or the scanner's buffer: it is valid until
// the next readString call and must be copied to be kept.
func (s *scanner) readString() ([]byte, error) {
	s.pos++ // opening quote
	start := s.pos
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			str := s.data[start:s.pos]
			s.pos++
			return str, nil
		case c == '\\':
			return s.readEscaped(start)
		case c < 0x20:
			return nil, s.errorf("control character %#x in string", c)
		case c < utf8.RuneSelf:
			s.pos++
		default:
			if err := s.skipRune(); err != nil {
				return nil, err
			}
		}
	}
	return nil, s.errorf("unterminated string")
}

// skipRune consumes one multi-byte UTF-8 sequence or fails.
func (s *scanner) skipRune() error {
	r, n := utf8.DecodeRune(s.data[s.pos:])
	if r == utf8.RuneError && n <= 1 {
		return s.errorf("invalid UTF-8 in string")
	}
	s.pos += n
	return nil
}

// readEscaped finishes a string that contains escapes, unescaping it into
// s.unescaped. start is the offset of the string's first content byte; the
// current position is at the first backslash.
func (s *scanner) readEscaped(start int) ([]byte, error) {
	buf := append(s.unescaped[:0], s.data[start:s.pos]...)
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			s.unescaped = buf
			return buf, nil
		case c == '\\':
			var err error
			if buf, err = s.unescape(buf); err != nil {
				return nil, err
			}
		case c < 0x20:
			return nil, s.errorf("control character %#x in string", c)
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			s.pos++
		default:
			from := s.pos
			if err := s.skipRune(); err != nil {
				return nil, err
			}
			buf = append(buf, s.data[from:s.pos]...)
		}
	}
	return nil, s.errorf("unterminated string")
}

// unescape consumes one escape sequence (the position is at its backslash)
// and appends what it stands for to buf. A \u escape of a lone UTF-16
// surrogate stands for U+FFFD, as in encoding/json.
func (s *scanner) unescape(buf []byte) ([]byte, error) {
	if s.pos+1 >= len(s.data) {
		s.pos = len(s.data)
		return nil, s.errorf("unterminated string")
	}
	c := s.data[s.pos+1]
	switch c {
	case '"', '\\', '/':
		s.pos += 2
		return append(buf, c), nil
	case 'b':
		s.pos += 2
		return append(buf, '\b'), nil
	case 'f':
		s.pos += 2
		return append(buf, '\f'), nil
	case 'n':
		s.pos += 2
		return append(buf, '\n'), nil
	case 'r':
		s.pos += 2
		return append(buf, '\r'), nil
	case 't':
		s.pos += 2
		return append(buf, '\t'), nil
	case 'u':
		r, ok := hex4(s.data[s.pos+2:])
		if !ok {
			return nil, s.errorf(`invalid \u escape`)
		}
		s.pos += 6
		if utf16.IsSurrogate(r) {
			// A high surrogate followed by an escaped low surrogate is one
			// code point; anything else is a lone surrogate.
			if r2, ok := s.lowSurrogate(); ok {
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					s.pos += 6
					return utf8.AppendRune(buf, dec), nil
				}
			}
			return utf8.AppendRune(buf, utf8.RuneError), nil
		}
		return utf8.AppendRune(buf, r), nil
	}
	return nil, s.errorf("invalid escape %q", []byte{'\\', c})
}

// lowSurrogate reports the code unit of a \uXXXX escape at the current
// position without consuming it.
func (s *scanner) lowSurrogate() (rune, bool) {
	rest := s.data[s.pos:]
	if len(rest) < 6 || rest[0] != '\\' || rest[1] != 'u' {
		return 0, false
	}
	return hex4(rest[2:])
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// number is a scanned JSON number. When it has at most 19 significant
// digits (!trunc), its value is exactly mant × 10^exp10 with the sign neg.
type number struct {
	text  []byte // the number as written, for strconv fallbacks and messages
	mant  uint64
	exp10 int
	neg   bool
	trunc bool // more than 19 significant digits: mant and exp10 are not exact
	isInt bool // no fraction and no exponent
}

// maxExp bounds the exponent the scanner accumulates; anything beyond it
// overflows or underflows every float type anyway.
const maxExp = 1 << 20

// readNumber scans a number with RFC 8259 grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
//
// It works on locals and fills the result at the end: a struct of more
// than four fields is not kept in registers.
func (s *scanner) readNumber() (number, error) {
	data := s.data
	i := s.pos
	neg := false
	if i < len(data) && data[i] == '-' {
		neg = true
		i++
	}
	var mant uint64
	nd, exp10 := 0, 0 // significant digits in mant; power of ten
	trunc := false
	intStart := i
	for ; i < len(data) && data[i]-'0' <= 9; i++ {
		if nd < 19 {
			mant = mant*10 + uint64(data[i]-'0')
			if mant != 0 {
				nd++
			}
		} else {
			trunc = true
		}
	}
	switch {
	case i == intStart:
		s.pos = i
		return number{}, s.unexpected("a digit")
	case i-intStart > 1 && data[intStart] == '0':
		s.pos = intStart
		return number{}, s.errorf("number with a leading zero")
	}
	isInt := true
	if i < len(data) && data[i] == '.' {
		isInt = false
		i++
		fracStart := i
		for ; i < len(data) && data[i]-'0' <= 9; i++ {
			if nd < 19 {
				mant = mant*10 + uint64(data[i]-'0')
				if mant != 0 {
					nd++
				}
				exp10--
			} else {
				trunc = true
			}
		}
		if i == fracStart {
			s.pos = i
			return number{}, s.unexpected("a digit after the decimal point")
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		isInt = false
		i++
		expNeg := false
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			expNeg = data[i] == '-'
			i++
		}
		expStart, e := i, 0
		for ; i < len(data) && data[i]-'0' <= 9; i++ {
			if e < maxExp {
				e = e*10 + int(data[i]-'0')
			}
		}
		if i == expStart {
			s.pos = i
			return number{}, s.unexpected("a digit in the exponent")
		}
		if expNeg {
			e = -e
		}
		exp10 += e
	}
	n := number{text: data[s.pos:i], mant: mant, exp10: exp10, neg: neg, trunc: trunc, isInt: isInt}
	s.pos = i
	return n, nil
}

// literal consumes the literal word (true, false or null) or fails.
func (s *scanner) literal(word string) error {
	if len(s.data)-s.pos < len(word) || string(s.data[s.pos:s.pos+len(word)]) != word {
		return s.unexpected(word)
	}
	s.pos += len(word)
	return nil
}

// skipValue consumes one JSON value of any type, checking its syntax.
func (s *scanner) skipValue(depth int) error {
	if depth > maxSkipDepth {
		return s.errorf("nesting deeper than %d levels", maxSkipDepth)
	}
	switch c := s.peek(); c {
	case '{':
		more, err := s.openObject()
		for err == nil && more {
			if _, err = s.readKey(); err != nil {
				break
			}
			if err = s.skipValue(depth + 1); err != nil {
				break
			}
			more, err = s.next('}')
		}
		return err
	case '[':
		more, err := s.openArray()
		for err == nil && more {
			if err = s.skipValue(depth + 1); err != nil {
				break
			}
			more, err = s.next(']')
		}
		return err
	case '"':
		_, err := s.readString()
		return err
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		if c == '-' || ('0' <= c && c <= '9') {
			_, err := s.readNumber()
			return err
		}
		return s.unexpected("a JSON value")
	}
}

// kindAt names the JSON type of the value starting at the current position
// (after whitespace), for error messages.
func (s *scanner) kindAt() string { return jsonKindOf(s.peek()) }

// jsonKindOf names the JSON type of a value that starts with c, for error
// messages ("an object", "a number", ...).
func jsonKindOf(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	if c == '-' || ('0' <= c && c <= '9') {
		return "a number"
	}
	return "not a JSON value"
}
