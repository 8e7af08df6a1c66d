package config

import (
	"errors"
	"strings"
	"testing"
)

// TestJoinDistinct checks how the errors of merged events combine: nil only
// if none failed, each distinct error once, earliest first.
func TestJoinDistinct(t *testing.T) {
	e1, e2 := errors.New("first failure"), errors.New("second failure")
	if joinDistinct(nil, nil) != nil || joinDistinct(e1, nil) != e1 || joinDistinct(nil, e2) != e2 {
		t.Error("a nil error replaced or added")
	}
	if joinDistinct(e1, e1) != e1 || joinDistinct(e1, errors.New("first failure")) != e1 {
		t.Error("the same error merged twice")
	}
	j := joinDistinct(joinDistinct(joinDistinct(e1, e2), e1), e2)
	if !errors.Is(j, e1) || !errors.Is(j, e2) || j.Error() != "first failure\nsecond failure" {
		t.Errorf("joined = %q, want each error once, earliest first", j)
	}
	if strings.Count(j.Error(), "failure") != 2 {
		t.Errorf("joined = %q", j)
	}
}
