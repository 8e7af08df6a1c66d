package file

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestShow(t *testing.T) {
	for _, f := range []string{"/tmp/hang1", "/tmp/hang2"} {
		b, _ := os.ReadFile(f)
		fm, doc, _ := strings.Cut(string(b), "\n")
		start := time.Now()
		_, err := decode("f", Format(fm), []byte(doc), schema(t))
		t.Log(f, time.Since(start), err)
	}
}
