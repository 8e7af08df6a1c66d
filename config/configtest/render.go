package configtest

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
)

// Renderings prints v every way a program might: each fmt verb (%v %+v %#v
// %s %q %x %X %d), log/slog's text and JSON handlers and encoding/json; for an
// error, also every error of its Unwrap tree (see ErrorTree) with %v, %+v and
// %#v. The map is keyed by how each text was made. Tests search it for a
// canary secret, in every form of LeakForms.
func Renderings(v any) map[string]string {
	out := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		out[verb] = fmt.Sprintf(verb, v)
	}
	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("m", "v", v)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("m", slog.Any("v", v))
	out["slog text"], out["slog json"] = text.String(), js.String()
	b, err := json.Marshal(v)
	out["json"] = string(b)
	if err != nil {
		out["json error"] = err.Error()
	}
	if e, ok := v.(error); ok {
		for i, c := range ErrorTree(e) {
			out[fmt.Sprintf("chain %d (%T)", i, c)] = c.Error() + fmt.Sprintf(" %+v %#v", c, c)
		}
	}
	return out
}

// LeakForms returns the forms in which secret text s shows up in output: as
// it is, quoted (escaped), in lower- and upper-case hex, in base64 and as the
// decimal bytes that %d prints.
func LeakForms(s string) []string {
	q := strconv.Quote(s)
	return []string{s, q[1 : len(q)-1], hex.EncodeToString([]byte(s)), strings.ToUpper(hex.EncodeToString([]byte(s))),
		base64.StdEncoding.EncodeToString([]byte(s)), strings.Trim(fmt.Sprint([]byte(s)), "[]")}
}

// Reveals reports whether a rendering of v (see Renderings) shows secret in
// one of its LeakForms, with how that rendering was made and its text; of
// several, the first by how.
func Reveals(v any, secret string) (how, text string, ok bool) {
	renderings := Renderings(v)
	hows := make([]string, 0, len(renderings))
	for h := range renderings {
		hows = append(hows, h)
	}
	slices.Sort(hows)
	forms := LeakForms(secret)
	for _, h := range hows {
		for _, form := range forms {
			if strings.Contains(renderings[h], form) {
				return h, renderings[h], true
			}
		}
	}
	return "", "", false
}
