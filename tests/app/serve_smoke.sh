#!/usr/bin/env bash
# Black-box check of the binary: `realmkit migrate` creates the embedded database, `realmkit serve`
# answers /healthz and /readyz on its port, and SIGTERM stops it cleanly (exit 0).
set -euo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
pid=

get() {  # get PORT PATH → prints the status line and body
  exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf 'GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$2" >&3 || return 1
  cat <&3
  exec 3<&-
}

"$bin" migrate --data-dir "$tmp/data" --log-format json
[[ -s $tmp/data/realmkit.db ]] || { echo "migrate created no database"; exit 1; }

"$bin" version | grep -q '^realmkit '

for attempt in 1 2 3; do
  port=$((20000 + RANDOM % 20000))
  "$bin" serve --data-dir "$tmp/data" --port "$port" --host 127.0.0.1 --log-format json \
    2>"$tmp/serve.log" &
  pid=$!
  deadline=$((SECONDS + 30))
  until response=$(get "$port" /readyz 2>/dev/null); do
    kill -0 "$pid" 2>/dev/null || break
    ((SECONDS < deadline)) || { echo "server not ready in 30 s"; cat "$tmp/serve.log"; exit 1; }
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && break
  wait "$pid" || true  # the port was taken: try another
done
grep -q '^HTTP/1.1 200' <<<"$response" || { echo "readyz: $response"; exit 1; }
grep -q '"store":"ok"' <<<"$response" || { echo "readyz body: $response"; exit 1; }
health=$(get "$port" /healthz)
grep -q '^HTTP/1.1 200' <<<"$health" || { echo "healthz: $health"; exit 1; }
missing=$(get "$port" /api/no-such-route)
grep -q '^HTTP/1.1 404' <<<"$missing" || { echo "unknown route: $missing"; exit 1; }
grep -qi '^Content-Type: application/problem+json' <<<"$missing" || { echo "not problem+json"; exit 1; }

kill -TERM "$pid"
wait "$pid"
status=$?
pid=
[[ $status -eq 0 ]] || { echo "serve exited with $status"; cat "$tmp/serve.log"; exit 1; }
grep -q '"msg":"stopped"' "$tmp/serve.log" || { echo "no clean stop logged"; cat "$tmp/serve.log"; exit 1; }
echo "serve smoke test passed"
