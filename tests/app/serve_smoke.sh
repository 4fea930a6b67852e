#!/usr/bin/env bash
# Black-box check of the binary: `realmkit migrate` creates the embedded database, `realmkit user
# create` registers a user, `realmkit serve` answers /healthz and /readyz on its port, that user
# logs in and reads /api/auth/me, and SIGTERM stops the server cleanly (exit 0). With
# REALMKIT_TEST_POSTGRES_URL set, the same binary serves a fresh PostgreSQL database and its
# scheduled analytics refresh runs.
set -euo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
pid=

get() {  # get PORT PATH [HEADER] → prints the status line, headers and body
  local extra=
  [[ -n ${3:-} ]] && extra="$3"$'\r\n'
  exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf 'GET %s HTTP/1.1\r\nHost: localhost\r\n%sConnection: close\r\n\r\n' "$2" "$extra" >&3 ||
    return 1
  cat <&3
  exec 3<&-
}

post_json() {  # post_json PORT PATH BODY → prints the status line, headers and body
  exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf 'POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
    "$2" "${#3}" "$3" >&3 || return 1
  cat <&3
  exec 3<&-
}

store_args=(--data-dir "$tmp/data")
start_server() {  # serves store_args on a free port: sets port, pid and response (of /readyz)
  for attempt in 1 2 3; do
    port=$((20000 + RANDOM % 20000))
    "$bin" serve "${store_args[@]}" --port "$port" --host 127.0.0.1 --log-format json "$@" \
      2>"$tmp/serve.log" &
    pid=$!
    deadline=$((SECONDS + 30))
    until response=$(get "$port" /readyz 2>/dev/null); do
      kill -0 "$pid" 2>/dev/null || break
      ((SECONDS < deadline)) || { echo "server not ready in 30 s"; cat "$tmp/serve.log"; exit 1; }
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && return 0
    wait "$pid" || true  # the port was taken: try another
  done
  echo "server did not start"; cat "$tmp/serve.log"; exit 1
}

stop_server() {  # SIGTERM, then a clean exit (status 0, "stopped" logged)
  kill -TERM "$pid"
  local status=0
  wait "$pid" || status=$?
  pid=
  [[ $status -eq 0 ]] || { echo "serve exited with $status"; cat "$tmp/serve.log"; exit 1; }
  grep -q '"msg":"stopped"' "$tmp/serve.log" || { echo "no clean stop logged"; cat "$tmp/serve.log"; exit 1; }
}

"$bin" migrate --data-dir "$tmp/data" --log-format json
[[ -s $tmp/data/realmkit.db ]] || { echo "migrate created no database"; exit 1; }

"$bin" version | grep -q '^realmkit '

# Role subsets need a store other processes share; the embedded one is refused with the reason.
if "$bin" serve "${store_args[@]}" --roles api --port 0 2>"$tmp/roles.err"; then
  echo "--roles api on SQLite was accepted"; exit 1
fi
grep -q 'needs PostgreSQL' "$tmp/roles.err" || { echo "no roles refusal: $(cat "$tmp/roles.err")"; exit 1; }
if "$bin" config "${store_args[@]}" --roles api,nonsense >/dev/null 2>"$tmp/roles.err"; then
  echo "an unknown role was accepted"; exit 1
fi
grep -q "unknown role 'nonsense'" "$tmp/roles.err" || { echo "no unknown-role message"; exit 1; }

# An empty database: the server says how to create the first admin.
start_server
grep -q 'no users yet: create the first admin with `realmkit user create' "$tmp/serve.log" ||
  { echo "no first-admin hint"; cat "$tmp/serve.log"; exit 1; }
stop_server

password='smoke test pass phrase'
created=$(printf '%s\n' "$password" |
  "$bin" user create --data-dir "$tmp/data" --log-format json --email Smoke@Example.com \
    --role manager --password-stdin --name "Smoke Test")
grep -q '^created user .* <smoke@example.com> with role manager' <<<"$created" ||
  { echo "user create: $created"; exit 1; }
if printf '%s\n' "$password" | "$bin" user create --data-dir "$tmp/data" --log-format json \
  --email smoke@example.com --role admin --password-stdin 2>"$tmp/dup.err"; then
  echo "a second user with the same address was created"; exit 1
fi
grep -q 'exists already' "$tmp/dup.err" || { echo "duplicate refusal: $(cat "$tmp/dup.err")"; exit 1; }

start_server
grep -q '^HTTP/1.1 200' <<<"$response" || { echo "readyz: $response"; exit 1; }
grep -q '"store":"ok"' <<<"$response" || { echo "readyz body: $response"; exit 1; }
health=$(get "$port" /healthz)
grep -q '^HTTP/1.1 200' <<<"$health" || { echo "healthz: $health"; exit 1; }
missing=$(get "$port" /api/no-such-route)
grep -q '^HTTP/1.1 404' <<<"$missing" || { echo "unknown route: $missing"; exit 1; }
grep -qi '^Content-Type: application/problem+json' <<<"$missing" || { echo "not problem+json"; exit 1; }

login=$(post_json "$port" /api/auth/login "{\"email\":\"smoke@example.com\",\"password\":\"$password\"}")
grep -q '^HTTP/1.1 200' <<<"$login" || { echo "login: $login"; exit 1; }
token=$(sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' <<<"$login")
[[ -n $token ]] || { echo "no access token in: $login"; exit 1; }
wrong=$(post_json "$port" /api/auth/login '{"email":"smoke@example.com","password":"not the right one"}')
grep -q '^HTTP/1.1 401' <<<"$wrong" || { echo "wrong password: $wrong"; exit 1; }
me=$(get "$port" /api/auth/me "Authorization: Bearer $token")
grep -q '^HTTP/1.1 200' <<<"$me" || { echo "me: $me"; exit 1; }
grep -q '"email":"smoke@example.com"' <<<"$me" || { echo "me body: $me"; exit 1; }
grep -q '"role":"manager"' <<<"$me" || { echo "me role: $me"; exit 1; }
anonymous=$(get "$port" /api/auth/me)
grep -q '^HTTP/1.1 401' <<<"$anonymous" || { echo "me without a token: $anonymous"; exit 1; }
grep -qi '^WWW-Authenticate: Bearer' <<<"$anonymous" || { echo "no WWW-Authenticate"; exit 1; }
openapi=$(get "$port" /api/openapi.json)
grep -q '"openapi":"3.1.0"' <<<"$openapi" || { echo "openapi: ${openapi:0:300}"; exit 1; }
[[ $(stat -c %a "$tmp/data/jwt-keys") == 600 ]] || { echo "jwt-keys is not 0600"; exit 1; }
if grep -q "$(cut -d= -f2 "$tmp/data/jwt-keys")" "$tmp/serve.log"; then
  echo "the JWT secret appears in the log"; exit 1
fi

stop_server

if [[ -n ${REALMKIT_TEST_POSTGRES_URL:-} ]]; then
  db=realmkit_smoke_$$_$RANDOM
  psql -q -v ON_ERROR_STOP=1 "$REALMKIT_TEST_POSTGRES_URL" -c "CREATE DATABASE $db"
  trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true;
        psql -q "$REALMKIT_TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS $db" || true; rm -rf "$tmp"' EXIT
  url=$(sed -E "s#/[^/?]*(\?.*)?\$#/$db\1#" <<<"$REALMKIT_TEST_POSTGRES_URL")
  store_args=(--database-url "$url")
  "$bin" migrate "${store_args[@]}" --log-format json
  printf '%s\n' "$password" | "$bin" user create "${store_args[@]}" --log-format json \
    --email pg@example.com --role analyst --password-stdin >/dev/null
  if "$bin" serve "${store_args[@]}" --analytics-refresh-seconds -1 2>"$tmp/bad.err"; then
    echo "a negative refresh interval was taken"; exit 1
  fi
  # A server that may lose acknowledged commits is refused unless declared a throw-away one.
  if [[ $(psql -tAq "$url" -c "SELECT current_setting('fsync')") == off ]]; then
    if "$bin" serve "${store_args[@]}" --port 0 2>"$tmp/unsafe.err"; then
      echo "a PostgreSQL with fsync off was accepted"; exit 1
    fi
    grep -q 'fsync is off' "$tmp/unsafe.err" || { echo "no durability refusal: $(cat "$tmp/unsafe.err")"; exit 1; }
    store_args+=(--unsafe-durability)
  fi
  # Every role but the projector's: it follows the checkpoints another process commits.
  config=$("$bin" config "${store_args[@]}" --roles api,hub,relay --kafka-brokers 127.0.0.1:1 \
    --redis-url redis://:hunter2@127.0.0.1:1)
  grep -q '^roles *= api,hub,relay$' <<<"$config" || { echo "config roles: $config"; exit 1; }
  if grep -q hunter2 <<<"$config"; then echo "config shows the Redis password"; exit 1; fi
  start_server --analytics-refresh-seconds 1 --log-level debug
  grep -q '"store":"ok"' <<<"$response" || { echo "readyz on PostgreSQL: $response"; exit 1; }
  # The projector catches up with the new user's facts; the next round refreshes the views.
  deadline=$((SECONDS + 30))
  until grep -q 'analytics: refreshed' "$tmp/serve.log"; do
    ((SECONDS < deadline)) || { echo "no scheduled analytics refresh"; cat "$tmp/serve.log"; exit 1; }
    sleep 0.2
  done
  stop_server
fi
echo "serve smoke test passed"
