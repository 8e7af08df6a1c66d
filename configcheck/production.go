package configcheck

import (
	"strconv"
	"strings"
)

// IsProduction is the default of Options.Production: it reports whether an
// environment name names a production environment. Case is ignored, and the
// name is split into words at '-', '_', '.', '/' and spaces. It is true when
// the first or the last word is prod, prd or production: prod, PRD,
// Production, prod-eu, eu-west-1-prod, orders_production, us.prd. A last word
// that follows pre or non is not production: pre-prod and non-prod are not,
// nor are the single words preprod and nonprod. Everything else (staging,
// dev, demo, product, prodigy, an empty name) is not production.
func IsProduction(environment string) bool {
	name := strings.ToLower(environment)
	words := strings.FieldsFunc(name, func(r rune) bool {
		return r == '-' || r == '_' || r == '.' || r == '/' || r == ' '
	})
	if len(words) == 0 {
		return false
	}
	if isProdWord(words[0]) {
		return true
	}
	last := len(words) - 1
	if !isProdWord(words[last]) {
		return false
	}
	return last == 0 || (words[last-1] != "pre" && words[last-1] != "non")
}

func isProdWord(w string) bool {
	switch w {
	case "prod", "prd", "production":
		return true
	}
	return false
}

// boolFlag is a boolean flag that remembers whether it was given, so that
// --production=false can override a name that looks like production.
type boolFlag struct {
	value, set bool
}

func (b *boolFlag) IsBoolFlag() bool { return true }

func (b *boolFlag) String() string {
	if b == nil {
		return "false"
	}
	return strconv.FormatBool(b.value)
}

func (b *boolFlag) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	b.value, b.set = v, true
	return nil
}
