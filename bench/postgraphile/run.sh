#!/usr/bin/env bash
# billbridge and PostGraphile 5 on the same PostgreSQL database, driven by the same load
# generator (`billbridge bench api`), side by side. Not part of CI. See README.md here.
#
#   bench/postgraphile/run.sh [ADMIN_URL]
#
# ADMIN_URL: a PostgreSQL server to create the benchmark's database on (default
# $PG_ADMIN_URL, else postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable). Both
# systems connect with the URL's parameters: without `sslmode`, sqlx would negotiate TLS
# where node-postgres does not, and the two would not be compared on the same transport. Settings from the
# environment: ACCOUNTS (1000), DURATION (10 s per shape), WARMUP (2 s), CONNECTIONS (16),
# PORT (PostGraphile's, 5678), BILLBRIDGE (default target/release/billbridge), BENCH_ARGS
# (more options for billbridge's run, e.g. --no-rate-limit).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
ADMIN=${1:-${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}}
BIN=${BILLBRIDGE:-$ROOT/target/release/billbridge}
PORT=${PORT:-5678}
SHAPES=(services accounts typename)
LOAD=(--duration "${DURATION:-10}" --warmup "${WARMUP:-2}" --connections "${CONNECTIONS:-16}")

[ -x "$BIN" ] || { echo "no $BIN: run 'cargo build --release' first (or set BILLBRIDGE)" >&2; exit 1; }
cd "$HERE"
# PostGraphile and Node 22 from the npm registry, into node_modules here (the lock pins them).
if [ ! -x node_modules/.bin/node ] || [ ! -d node_modules/postgraphile ]; then
  npm ci --no-audit --no-fund
fi
export PATH="$HERE/node_modules/.bin:$PATH"
node --version | grep -q '^v22\.' || { echo "expected Node 22 in node_modules, got $(node --version)" >&2; exit 1; }

WORK=$(mktemp -d)
DB=""
PGL=""
cleanup() {
  local status=$?
  set +e
  if [ -n "$PGL" ]; then
    kill "$PGL" 2>/dev/null
    wait "$PGL" 2>/dev/null
  fi
  if [ -n "$DB" ]; then
    psql "$ADMIN" -qc "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT

shape_args=()
query_args=()
for shape in "${SHAPES[@]}"; do
  shape_args+=(--shape "$shape")
  query_args+=(--query-file "queries/$shape.graphql")
done

echo "== billbridge (seeds the database, serves it, measures; keeps the database)" >&2
measured=0
"$BIN" bench api --database-url "$ADMIN" --accounts "${ACCOUNTS:-1000}" "${LOAD[@]}" \
  "${shape_args[@]}" ${BENCH_ARGS:-} --keep --json "$WORK/billbridge.json" || measured=$?
URL=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).kept ?? "")' \
  "$WORK/billbridge.json" 2>/dev/null || true)
[ -n "$URL" ] || { echo "bench api did not keep a database" >&2; exit 1; }
DB=${URL##*/}
DB=${DB%%\?*}
[ "$measured" -eq 0 ] || exit "$measured"

echo "== PostGraphile 5 on $DB (jit=off on its connections)" >&2
DATABASE_URL="$URL" PORT="$PORT" PGOPTIONS="-c jit=off" GRAPHILE_ENV=production \
  node node_modules/postgraphile/dist/cli-run.js -C graphile.config.mjs >"$WORK/postgraphile.log" 2>&1 &
PGL=$!
for _ in $(seq 1 120); do
  if curl -fs -o /dev/null -H 'Content-Type: application/json' \
    -d '{"query":"{ __typename }"}' "http://127.0.0.1:$PORT/graphql"; then
    break
  fi
  kill -0 "$PGL" 2>/dev/null || { cat "$WORK/postgraphile.log" >&2; exit 1; }
  sleep 0.5
done
"$BIN" bench api --target "http://127.0.0.1:$PORT/graphql" "${query_args[@]}" "${LOAD[@]}" \
  --server-pid "$PGL" --pg-database "$DB" --label "PostGraphile 5" --json "$WORK/postgraphile.json"

node compare.mjs "$WORK/billbridge.json" "$WORK/postgraphile.json"
