#!/usr/bin/env bash
# Property-based run of the HTTP API against its own OpenAPI document (schemathesis): a `weir serve` on
# loopback, loaded with the flows of the test captures, asked thousands of generated questions, valid and
# not. It fails on any 5xx, any response that contradicts the document (status, content type, schema), and
# any request the document forbids that the server accepts. Free-form strings (filters, times, durations)
# cannot be described exactly by a schema, so schema-valid requests that the server refuses with a 400 that
# names the parameter are not failures (`positive_data_acceptance` is left out).
#
# Usage: tests/api_fuzz.sh WEIR_BINARY SCHEMATHESIS_BINARY [SECONDS]
set -euo pipefail
weir=$1
st=$2
budget=${3:-60}
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
udp=$(free_port)
http=$(free_port)
"$weir" serve --data "$work/data" --listen "127.0.0.1:$udp" --no-tcp --http "127.0.0.1:$http" \
  > "$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$http/healthz" > /dev/null && break
  sleep 0.1
done
for capture in fixtures/captures/*/*.pcap*; do
  "$weir" replay --top-speed --to "127.0.0.1:$udp" "$capture" > /dev/null 2>&1 || true
done
sleep 2
flows=$(curl -sf "http://127.0.0.1:$http/api/v1/summary?since=1d" | python3 -c 'import json,sys; a=json.load(sys.stdin); print(sum(r[a["columns"].index("flows")] for r in a["rows"] if r[0] is None))')
echo "weir serve on 127.0.0.1:$http holds $flows flows"
[ "$flows" -gt 0 ]

"$st" run "http://127.0.0.1:$http/api/openapi.json" \
  --checks all --exclude-checks positive_data_acceptance \
  --max-time "$budget" --workers 2 --seed "${SCHEMATHESIS_SEED:-1}" \
  --max-response-time 10
kill -0 "$pid"   # still running: nothing it was asked brought it down
