package config

import "fmt"

// CallCount is the number of calls of one operation a layer made, by
// outcome, as LayerStatus.Calls reports it. A call is one request as the
// layer sees it; retries an SDK makes inside it are not counted separately.
type CallCount struct {
	OK    int64 // calls that returned a response
	Error int64 // calls that returned an error
}

// Total returns OK + Error.
func (c CallCount) Total() int64 { return c.OK + c.Error }

// String renders the count as "3 ok, 1 error".
func (c CallCount) String() string { return fmt.Sprintf("%d ok, %d error", c.OK, c.Error) }
