#!/usr/bin/env bash
# Server benchmark (issue 7, point 9): `GET /api/cases/{id}` through wrk at
# 16 connections, and pgbench running the same SELECTs on the same database
# in the same run, at each database size (default 10 000 and 1 000 000
# cases); the server's peak RSS under load; a summary table at the end.
#
# Needs: the local PostgreSQL (trust auth for the superuser), wrk
# (`apt-get install -y wrk`), pgbench/psql/createdb/dropdb (postgresql-client),
# curl. Traffic stays on 127.0.0.1. Every database it creates is dropped on
# exit.
#
# Settings (environment):
#   BENCH_SIZES      case counts to run, in order      "10000 1000000"
#   BENCH_DURATION   seconds of each measured phase    20
#   BENCH_WARMUP     seconds of warm-up before wrk     5
#   BENCH_CONNS      concurrent connections            16
#   BENCH_PG         server URL without database       postgres://postgres@127.0.0.1:5432
#   BENCH_PORT       the server's port on 127.0.0.1    5077
#   BENCH_DB         database name prefix              dms_bench
#   BENCH_NO_BUILD   1: use target/release as it is    (build)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
HERE=$ROOT/scripts/bench

SIZES=${BENCH_SIZES:-"10000 1000000"}
DURATION=${BENCH_DURATION:-20}
WARMUP=${BENCH_WARMUP:-5}
CONNS=${BENCH_CONNS:-16}
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
PORT=${BENCH_PORT:-5077}
DB_PREFIX=${BENCH_DB:-dms_bench}
THREADS=2

for tool in wrk pgbench psql curl; do
    command -v "$tool" >/dev/null || {
        echo "bench: $tool is missing (apt-get install -y wrk postgresql-client curl)" >&2
        exit 2
    }
done

if [[ ${BENCH_NO_BUILD:-} != 1 ]]; then
    cargo build --release --quiet --bin dms -p dms
    cargo build --release --quiet --bin migration -p migration
fi
DMS=$ROOT/target/release/dms
MIGRATION=$ROOT/target/release/migration

WORK=$(mktemp -d /tmp/dms-bench.XXXXXX)
SERVER_PID=
CURRENT_DB=
cleanup() {
    if [[ -n $SERVER_PID ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ -n $CURRENT_DB ]]; then
        psql "$PG/postgres" -qAtc "DROP DATABASE IF EXISTS $CURRENT_DB WITH (FORCE)" >/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Seconds since $1 (a `date +%s.%N` value), one decimal.
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

RESULTS=$WORK/results.tsv
: >"$RESULTS"

run_size() {
    local n=$1
    local db=${DB_PREFIX}_$n
    local url=$PG/$db
    CURRENT_DB=$db

    log "$n cases: database $db"
    psql "$PG/postgres" -qAt -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
    psql "$PG/postgres" -qAtc "CREATE DATABASE $db" >/dev/null
    "$MIGRATION" up -u "$url" >"$WORK/migrate.log" 2>&1 || {
        cat "$WORK/migrate.log" >&2
        return 1
    }

    local t0
    t0=$(date +%s.%N)
    # Two sessions, one per core, each filling half of the tables.
    psql "$url" -q -v ncases="$n" -v part1=1 -v part2=0 -f "$HERE/seed.sql" >/dev/null &
    local seed_pid=$!
    psql "$url" -q -v ncases="$n" -v part1=0 -v part2=1 -f "$HERE/seed.sql" >/dev/null
    wait "$seed_pid"
    local seed_s
    seed_s=$(since "$t0")
    log "$n cases: seeded in ${seed_s}s"

    # Revision 005_add_fk_indexes created the foreign-key indexes during
    # `migration up`, before the data.
    t0=$(date +%s.%N)
    # Hint bits, visibility map and planner statistics, so that neither a
    # vacuum nor the first readers' page writes fall inside a measurement.
    psql "$url" -qAtc "VACUUM (ANALYZE)" >/dev/null
    local index_s
    index_s=$(since "$t0")
    local db_size
    db_size=$(psql "$url" -qAtc "SELECT pg_size_pretty(pg_database_size(current_database()))")
    log "$n cases: vacuum in ${index_s}s; database size $db_size"

    # The release server, on loopback only, with its own data directory and key.
    DATABASE_URL=$url DMS_BIND=127.0.0.1:$PORT DMS_DATA_DIR=$WORK/data \
        DMS_JWT_SECRET=$(od -An -N32 -tx1 /dev/urandom | tr -d " \n") \
        "$DMS" serve >"$WORK/server-$n.log" 2>&1 &
    SERVER_PID=$!
    local up=
    for _ in $(seq 1 100); do
        if curl -fsS "http://127.0.0.1:$PORT/api/health" >/dev/null 2>&1; then
            up=1
            break
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    if [[ -z $up ]]; then
        echo "bench: the server did not start:" >&2
        cat "$WORK/server-$n.log" >&2
        return 1
    fi

    local token
    token=$(curl -fsS "http://127.0.0.1:$PORT/auth/token" \
        --data-urlencode username=admin --data-urlencode 'password=Admin123!' |
        sed -E 's/.*"access_token" *: *"([^"]+)".*/\1/')
    local user_id
    user_id=$(psql "$url" -qAtc "SELECT id FROM users WHERE username = 'admin'")
    # One request checked by hand: the seeded case answers with its relations.
    curl -fsS -H "Authorization: Bearer $token" \
        "http://127.0.0.1:$PORT/api/cases/00000000-0000-4000-8000-$(printf %012d "$n")" >"$WORK/one.json"
    grep -q '"dao_criteria"' "$WORK/one.json" || {
        echo "bench: unexpected case detail: $(head -c 500 "$WORK/one.json")" >&2
        return 1
    }

    export BENCH_CASES=$n BENCH_TOKEN=$token
    log "$n cases: wrk warm-up ${WARMUP}s"
    wrk -t "$THREADS" -c "$CONNS" -d "${WARMUP}s" -s "$HERE/case_detail.lua" \
        "http://127.0.0.1:$PORT" >"$WORK/wrk-warmup-$n.txt"
    log "$n cases: wrk ${DURATION}s at $CONNS connections"
    wrk -t "$THREADS" -c "$CONNS" -d "${DURATION}s" -s "$HERE/case_detail.lua" \
        "http://127.0.0.1:$PORT" >"$WORK/wrk-$n.txt"
    local rss_kib
    rss_kib=$(awk '/^VmHWM:/ { print $2 }' "/proc/$SERVER_PID/status")
    kill "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=

    local line
    line=$(grep '^BENCH ' "$WORK/wrk-$n.txt") || {
        cat "$WORK/wrk-$n.txt" >&2
        return 1
    }
    field() { sed -E "s/.* $1=([0-9]+).*/\1/" <<<"$line"; }
    local requests duration_us p50_us p99_us errors
    requests=$(field requests)
    duration_us=$(field duration_us)
    p50_us=$(field p50_us)
    p99_us=$(field p99_us)
    errors=$(field errors)
    if [[ $errors != 0 ]]; then
        echo "bench: $errors failed requests at $n cases:" >&2
        cat "$WORK/wrk-$n.txt" >&2
        tail -5 "$WORK/server-$n.log" >&2
        return 1
    fi
    local rps
    rps=$(awk -v r="$requests" -v d="$duration_us" 'BEGIN { printf "%.0f", r / (d / 1e6) }')

    # The same statement as the server, on the same database, prepared; then,
    # for comparison, the nine SELECTs a client needs when it reads one
    # relation per statement (what the server sent before it built the case
    # file in one statement).
    local tps tps_per_relation script
    for script in case_detail case_detail_per_relation; do
        log "$n cases: pgbench $script ${DURATION}s at $CONNS clients"
        pgbench -n -M prepared -c "$CONNS" -j "$THREADS" -T "$DURATION" \
            -D ncases="$n" -D uid="$user_id" -f "$HERE/$script.pgbench" \
            "$url" >"$WORK/pgbench-$script-$n.txt" 2>&1 || {
            cat "$WORK/pgbench-$script-$n.txt" >&2
            return 1
        }
        local value
        value=$(sed -nE 's/^tps = ([0-9.]+) .*/\1/p' "$WORK/pgbench-$script-$n.txt" | head -1)
        value=$(printf '%.0f' "$value")
        if [[ $script == case_detail ]]; then tps=$value; else tps_per_relation=$value; fi
    done

    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$seed_s" "$db_size" "$rps" \
        "$p50_us" "$p99_us" "$tps" "$rss_kib" "$requests" "$tps_per_relation" >>"$RESULTS"
    log "$n cases: $rps req/s, p50 ${p50_us}us, p99 ${p99_us}us; pgbench $tps tps (per relation: $tps_per_relation); peak RSS ${rss_kib} KiB"

    psql "$PG/postgres" -qAt -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
    CURRENT_DB=
}

for n in $SIZES; do
    run_size "$n"
done

echo
echo "GET /api/cases/{id}: wrk -t $THREADS -c $CONNS -d ${DURATION}s; pgbench -M prepared -c $CONNS -j $THREADS -T $DURATION"
echo "machine: $(nproc) cores, $(sed -nE 's/^model name\s*: //p' /proc/cpuinfo | head -1); $(psql "$PG/postgres" -qAtc 'SHOW server_version' | cut -d' ' -f1)"
awk -F'\t' '
BEGIN {
    printf "%10s %8s %9s %9s %9s %9s %11s %9s %13s %10s\n", "cases", "seed s", "db size", "req/s", "p50 ms", "p99 ms", "pgbench tps", "req/tps", "per-rel. tps", "peak RSS"
}
{
    printf "%10s %8s %9s %9s %9.2f %9.2f %11s %9.2f %13s %6.1f MiB\n", $1, $2, $3, $4, $5 / 1000, $6 / 1000, $7, $4 / $7, $10, $8 / 1024
    if (NR == 1) { p99_first = $6; first = $1 }
    last_p99 = $6; last = $1
    if ($4 / $7 < 0.5) ratio_fail = ratio_fail " " $1
    if ($8 / 1024 > 64) rss_fail = rss_fail " " $1
}
END {
    print ""
    printf "goal req/s >= 0.5 x pgbench tps: %s\n", ratio_fail == "" ? "met" : "missed at" ratio_fail
    if (NR > 1)
        printf "goal p99 at %s within 1.2 x p99 at %s: %s (%.2fx)\n", last, first, last_p99 <= 1.2 * p99_first ? "met" : "missed", last_p99 / p99_first
    printf "goal peak RSS <= 64 MiB: %s\n", rss_fail == "" ? "met" : "missed at" rss_fail
}' "$RESULTS"
