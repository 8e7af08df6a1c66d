#!/bin/sh
# make demo: start the local Secrets Manager emulator, seed the demo secrets, run
# examples/service against it, and stop everything started here.
set -eu
BIN=${BIN:-bin}
workdir=$(mktemp -d)
emulator_pid=""
cleanup() {
	if [ -n "$emulator_pid" ]; then
		kill "$emulator_pid" 2>/dev/null || true
		wait "$emulator_pid" 2>/dev/null || true
	fi
	rm -rf "$workdir"
}
trap cleanup EXIT INT TERM

"$BIN/strata-emulator" -url-file "$workdir/url" -seed examples/service/testdata/demo-secrets.json >"$workdir/emulator.log" 2>&1 &
emulator_pid=$!
i=0
while [ ! -s "$workdir/url" ]; do
	i=$((i + 1))
	if [ "$i" -gt 100 ] || ! kill -0 "$emulator_pid" 2>/dev/null; then
		echo "the emulator did not start:" >&2
		cat "$workdir/emulator.log" >&2
		exit 1
	fi
	sleep 0.1
done
url=$(cat "$workdir/url")
echo "Secrets Manager emulator on $url (seeded with examples/service/testdata/demo-secrets.json)"

# The SDK's standard settings reach the emulator with no code change. The
# emulator checks no signature; any static key works.
export AWS_ENDPOINT_URL_SECRETS_MANAGER="$url" AWS_ENDPOINT_URL_SSM="$url" AWS_REGION=us-east-1 \
	AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo AWS_EC2_METADATA_DISABLED=true
# A non-secret setting in SSM Parameter Store, read by path.
"$BIN/strata-emulator" put-parameter -endpoint "$url" /strata-demo/demo/database/port 6432 >/dev/null
APP_SERVER_WRITE_TIMEOUT=15s "$BIN/service" -demo -environment demo -env-file examples/service/.env

echo
echo "== Rotating strata-demo/demo/database from outside the service, with the emulator's rotate command"
"$BIN/strata-emulator" rotate -endpoint "$url" strata-demo/demo/database
echo "configcheck explain now reads the new AWSCURRENT version:"
"$BIN/configcheck" explain database.password

echo
echo "== examples/lambda: lazy mode, no background goroutine (two simulated invocations)"
APP_DATABASE_HOST=orders-db.internal "$BIN/lambda" -environment demo -invocations 2

echo
echo "== Push refresh: a rotation arriving by SQS, then the same kind of rotation with push off"
"$BIN/strata-emulator" push-demo -endpoint "$url"
