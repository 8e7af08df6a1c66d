package secretsmanager

// Operation names, as used by Calls.
const (
	OpBatchGetSecretValue = "BatchGetSecretValue"
	OpGetSecretValue      = "GetSecretValue"
	OpDescribeSecret      = "DescribeSecret"
	OpListSecrets         = "ListSecrets"
)

type op uint8

const (
	opBatchGet op = iota
	opGet
	opDescribe
	opList
	numOps
)

func (o op) String() string {
	switch o {
	case opBatchGet:
		return OpBatchGetSecretValue
	case opGet:
		return OpGetSecretValue
	case opDescribe:
		return OpDescribeSecret
	case opList:
		return OpListSecrets
	}
	return "unknown"
}

// action is the IAM action an operation needs.
func (o op) action() string { return "secretsmanager:" + o.String() }

// opNames lists the name of every operation, as Calls reports them.
var opNames = []string{OpBatchGetSecretValue, OpGetSecretValue, OpDescribeSecret, OpListSecrets}
