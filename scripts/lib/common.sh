# Shared by the scripts: paths, the build step, and PostgreSQL / Redis servers on loopback in temporary folders.
# shellcheck shell=bash

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
pg_bin=/usr/lib/postgresql/15/bin

# build DIR [cmake args...]: configure, then build with every core: everything, or only the
# targets listed in BUILD_TARGETS.
build() {
  local dir=$1
  shift
  cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE="${REALMKIT_BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
  local targets=()
  for t in ${BUILD_TARGETS:-}; do targets+=(--target "$t"); done
  cmake --build "$dir" -j "$(nproc)" "${targets[@]}"
}

free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

# start_postgres DIR [durable]: initdb + start on a free loopback port; sets PG_URL and PG_DIR.
# Without "durable", fsync and synchronous_commit are off: tests need speed, not crash safety.
# Benchmarks pass "durable" and run with PostgreSQL's durable defaults.
start_postgres() {
  PG_DIR=$1
  local mode=${2:-fast} port run=()
  port=$(free_port)
  mkdir -p "$PG_DIR"
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres "$PG_DIR"
    chmod 755 "$PG_DIR"
    run=(runuser -u postgres --)
  fi
  "${run[@]}" "$pg_bin/initdb" -D "$PG_DIR/data" -U postgres -A trust >"$PG_DIR/initdb.log" 2>&1
  local opts="-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=200"
  if [[ $mode != durable ]]; then
    opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  fi
  "${run[@]}" "$pg_bin/pg_ctl" -D "$PG_DIR/data" -o "$opts" -l "$PG_DIR/server.log" -w start >/dev/null
  PG_URL="postgresql://postgres@127.0.0.1:$port/postgres"
  PG_STOP=("${run[@]}" "$pg_bin/pg_ctl" -D "$PG_DIR/data" -m fast -w stop)
}

stop_postgres() {
  [[ -n ${PG_DIR:-} ]] || return 0
  "${PG_STOP[@]}" >/dev/null 2>&1 || true
  PG_DIR=
}

# start_redis DIR: a throw-away redis-server on a free loopback port; sets REDIS_URL.
start_redis() {
  REDIS_DIR=$1
  local port
  port=$(free_port)
  mkdir -p "$REDIS_DIR"
  redis-server --port "$port" --bind 127.0.0.1 --dir "$REDIS_DIR" --save "" --appendonly no \
    --daemonize yes --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log"
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.05
  done
  REDIS_URL="redis://127.0.0.1:$port"
}

stop_redis() {
  [[ -n ${REDIS_DIR:-} && -f $REDIS_DIR/redis.pid ]] || return 0
  local pid
  pid=$(cat "$REDIS_DIR/redis.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  REDIS_DIR=
}
