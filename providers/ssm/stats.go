package ssm

import (
	"sync/atomic"

	"github.com/strata-go/strata/config"
)

// Operation names, as used by Calls.
const (
	OpGetParameters       = "GetParameters"
	OpGetParametersByPath = "GetParametersByPath"
	OpDescribeParameters  = "DescribeParameters"
)

type op uint8

const (
	opGet op = iota
	opByPath
	opDescribe
	numOps
)

func (o op) String() string {
	switch o {
	case opGet:
		return OpGetParameters
	case opByPath:
		return OpGetParametersByPath
	case opDescribe:
		return OpDescribeParameters
	}
	return "unknown"
}

// action is the IAM action an operation needs.
func (o op) action() string { return "ssm:" + o.String() }

// counters holds the call counts; it is safe for concurrent use.
type counters struct {
	n [numOps][2]atomic.Int64
}

func (c *counters) add(o op, err error) {
	i := 0
	if err != nil {
		i = 1
	}
	c.n[o][i].Add(1)
}

func (c *counters) snapshot() map[string]config.CallCount {
	m := make(map[string]config.CallCount, numOps)
	for o := range numOps {
		m[o.String()] = config.CallCount{OK: c.n[o][0].Load(), Error: c.n[o][1].Load()}
	}
	return m
}
