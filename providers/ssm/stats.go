package ssm

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

// opNames lists the name of every operation, as Calls reports them.
var opNames = []string{OpGetParameters, OpGetParametersByPath, OpDescribeParameters}
