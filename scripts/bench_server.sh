#!/usr/bin/env bash
# Server benchmark (issue 7, point 9): `GET /api/cases/{id}` through wrk at
# 16 connections, and pgbench running the server's statement on the same
# database in paired rounds, at each database size (default 10 000 and
# 1 000 000 cases); the case page `GET /dossiers/{id}` through wrk beside
# the API detail in each round (issue 17: goal 0.5x the API's rate); the
# server's peak RSS under load; a summary table at the end.
#
# Needs: the local PostgreSQL (trust auth for the superuser), wrk
# (`apt-get install -y wrk`), pgbench/psql/createdb/dropdb (postgresql-client),
# curl. Traffic stays on 127.0.0.1. Every database it creates is dropped on
# exit.
#
# Settings (environment):
#   BENCH_SIZES      case counts to run, in order      "10000 1000000"
#   BENCH_DURATION   seconds of each measured phase    10
#   BENCH_ROUNDS     paired rounds (wrk, then pgbench)  3
#   BENCH_WARMUP     seconds of warm-up before wrk     5
#   BENCH_CONNS      concurrent connections            16
#   BENCH_PG         server URL without database       postgres://postgres@127.0.0.1:5432
#   BENCH_PORT       the server's port on 127.0.0.1    5077
#   BENCH_DB         database name prefix              dms_bench
#   BENCH_NO_BUILD   1: use target/release as it is    (build)
#   BENCH_ONLY       storage: only the files and instances part
#   BENCH_STORAGE    0: without it (see scripts/bench/storage.sh)
#   BENCH_SHARED_BUFFERS  e.g. 8GB: run a private PostgreSQL cluster (initdb
#                    in a temporary directory, as the postgres user, on
#                    127.0.0.1:BENCH_PG_PORT, default 5433) with that
#                    shared_buffers instead of the server at BENCH_PG: a
#                    database sized like production's, whose working set
#                    fits its buffers                  (unset: BENCH_PG)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
HERE=$ROOT/scripts/bench

SIZES=${BENCH_SIZES:-"10000 1000000"}
DURATION=${BENCH_DURATION:-10}
ROUNDS=${BENCH_ROUNDS:-3}
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

# Files and instances (issue 19): scripts/bench/storage.sh, after the rest,
# or alone with BENCH_ONLY=storage; BENCH_STORAGE=0 leaves it out.
if [[ ${BENCH_ONLY:-} == storage ]]; then
    DMS=$DMS exec "$HERE/storage.sh"
fi

WORK=$(mktemp -d /tmp/dms-bench.XXXXXX)
declare -A SERVER_PID=() URL=() TOKEN=() USER_ID=() SESSION=() SEED_S=() DB_SIZE=() SERVER_PORT=()
DBS=()
cleanup() {
    local pid db
    for pid in "${SERVER_PID[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    for db in "${DBS[@]}"; do
        psql "$PG/postgres" -qAtc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    done
    if [[ -n $PRIVATE_PGDATA ]]; then
        runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PRIVATE_PGDATA" -m fast stop >/dev/null 2>&1 || true
        rm -rf "$PRIVATE_PGDATA"
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PRIVATE_PGDATA=
if [[ -n ${BENCH_SHARED_BUFFERS:-} ]]; then
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    PRIVATE_PGDATA=$(mktemp -d /tmp/dms-bench-pg.XXXXXX)
    chown postgres: "$PRIVATE_PGDATA"
    pg_port=${BENCH_PG_PORT:-5433}
    runuser -u postgres -- "$PGBIN/initdb" -D "$PRIVATE_PGDATA" -A trust -U postgres >/dev/null
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PRIVATE_PGDATA" -w -l "$PRIVATE_PGDATA/server.log" \
        -o "-p $pg_port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PRIVATE_PGDATA -c shared_buffers=$BENCH_SHARED_BUFFERS" \
        start >/dev/null
    PG=postgres://postgres@127.0.0.1:$pg_port
fi

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# Seconds since $1 (a `date +%s.%N` value), one decimal.
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

RESULTS=$WORK/results.tsv
: >"$RESULTS"

# pgbench with scripts/bench/$1.pgbench on database $3 (N=$2 cases, user
# $4): prints "tps p50_us p99_us" (the percentiles from pgbench's
# per-transaction log when $5 is 1, else 0 0).
run_pgbench() {
    local script=$1 n=$2 url=$3 user_id=$4 percentiles=$5
    rm -f "$WORK"/pglog.*
    local log_args=()
    [[ $percentiles == 1 ]] && log_args=(-l --log-prefix="$WORK/pglog")
    pgbench -n -M prepared -c "$CONNS" -j "$THREADS" -T "$DURATION" "${log_args[@]}" \
        -D ncases="$n" -D uid="$user_id" -D sid="${SESSION[$n]}" -f "$HERE/$script.pgbench" \
        "$url" >"$WORK/pgbench-$script-$n.txt" 2>&1 || {
        cat "$WORK/pgbench-$script-$n.txt" >&2
        return 1
    }
    local tps
    tps=$(sed -nE 's/^tps = ([0-9.]+) .*/\1/p' "$WORK/pgbench-$script-$n.txt" | head -1)
    if [[ $percentiles == 1 ]]; then
        # Third field of the log: the transaction's latency in microseconds.
        printf '%.0f %s\n' "$tps" "$(cat "$WORK"/pglog.* | awk '{ print $3 }' | sort -n |
            awk '{ v[NR] = $1 } END { print v[int(NR * 0.50) + 1], v[int(NR * 0.99) + 1] }')"
    else
        printf '%.0f 0 0\n' "$tps"
    fi
}

prepare_size() {
    local n=$1 port=$2
    local db=${DB_PREFIX}_$n
    local url=$PG/$db
    DBS+=("$db")

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
    # vacuum nor the first readers' page writes fall inside a measurement;
    # then a checkpoint and the kernel's write-back, so that the seed's
    # gigabytes of dirty pages are on disk before anything is timed (else
    # readers evicting dirty buffers wait on writes: a latency tail that
    # is the seed's, not the server's).
    psql "$url" -qAtc "VACUUM (ANALYZE)" >/dev/null
    psql "$url" -qAtc "CHECKPOINT" >/dev/null
    sync
    local index_s
    index_s=$(since "$t0")
    SEED_S[$n]=$seed_s
    local db_size
    db_size=$(psql "$url" -qAtc "SELECT pg_size_pretty(pg_database_size(current_database()))")
    DB_SIZE[$n]=$db_size
    log "$n cases: vacuum and checkpoint in ${index_s}s; database size $db_size"

    # The release server, on loopback only, with its own data directory and key.
    DATABASE_URL=$url DMS_BIND=127.0.0.1:$port DMS_DATA_DIR=$WORK/data-$n \
        DMS_JWT_SECRET=$(od -An -N32 -tx1 /dev/urandom | tr -d " \n") \
        "$DMS" serve >"$WORK/server-$n.log" 2>&1 &
    local pid=$!
    SERVER_PID[$n]=$pid
    local up=
    for _ in $(seq 1 100); do
        if curl -fsS "http://127.0.0.1:$port/api/health" >/dev/null 2>&1; then
            up=1
            break
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if [[ -z $up ]]; then
        echo "bench: the server did not start:" >&2
        cat "$WORK/server-$n.log" >&2
        return 1
    fi

    local token
    token=$(curl -fsS "http://127.0.0.1:$port/auth/token" \
        --data-urlencode username=admin --data-urlencode 'password=Admin123!' |
        sed -E 's/.*"access_token" *: *"([^"]+)".*/\1/')
    local user_id
    user_id=$(psql "$url" -qAtc "SELECT id FROM users WHERE username = 'admin'")
    # The token's sign-in session (its `sid`), which the statement checks.
    local session
    session=$(psql "$url" -qAtc "SELECT id FROM auth_sessions WHERE user_id = $user_id ORDER BY created_at DESC LIMIT 1")
    # One request checked by hand: the seeded case answers with its relations.
    curl -fsS -H "Authorization: Bearer $token" \
        "http://127.0.0.1:$port/api/cases/00000000-0000-4000-8000-$(printf %012d "$n")" >"$WORK/one.json"
    grep -q '"dao_criteria"' "$WORK/one.json" || {
        echo "bench: unexpected case detail: $(head -c 500 "$WORK/one.json")" >&2
        return 1
    }
    # And the page, with the token as the session cookie.
    curl -fsS -H "Cookie: dms_session=$token" \
        "http://127.0.0.1:$port/dossiers/00000000-0000-4000-8000-$(printf %012d "$n")" >"$WORK/one.html"
    grep -q '<html' "$WORK/one.html" || {
        echo "bench: unexpected case page: $(head -c 500 "$WORK/one.html")" >&2
        return 1
    }
    URL[$n]=$url
    TOKEN[$n]=$token
    USER_ID[$n]=$user_id
    SESSION[$n]=$session
    SERVER_PORT[$n]=$port
    log "$n cases: server up on 127.0.0.1:$port"
}

# wrk against the server of size $1 with scripts/bench/$4.lua (default
# case_detail): prints "req/s p50_us p99_us".
run_wrk() {
    local n=$1 seconds=$2 out=$3 script=${4:-case_detail}
    BENCH_CASES=$n BENCH_TOKEN=${TOKEN[$n]} wrk -t "$THREADS" -c "$CONNS" -d "${seconds}s" \
        -s "$HERE/$script.lua" "http://127.0.0.1:${SERVER_PORT[$n]}" >"$out"
    local line
    line=$(grep '^BENCH ' "$out") || {
        cat "$out" >&2
        return 1
    }
    field() { sed -E "s/.* $1=([0-9]+).*/\1/" <<<"$line"; }
    if [[ $(field errors) != 0 ]]; then
        echo "bench: $(field errors) failed requests at $n cases:" >&2
        cat "$out" >&2
        tail -5 "$WORK/server-$n.log" >&2
        return 1
    fi
    awk -v r="$(field requests)" -v d="$(field duration_us)" -v p50="$(field p50_us)" -v p99="$(field p99_us)" \
        'BEGIN { printf "%.0f %s %s\n", r / (d / 1e6), p50, p99 }'
}

# The median of column $2 of the tab-separated file $1.
median() {
    cut -f "$2" "$1" | sort -g |
        awk '{ v[NR] = $1 } END { printf "%s", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

SIZES_ARRAY=($SIZES)
i=0
for n in "${SIZES_ARRAY[@]}"; do
    prepare_size "$n" $((PORT + i))
    i=$((i + 1))
done

for n in "${SIZES_ARRAY[@]}"; do
    log "$n cases: wrk warm-up ${WARMUP}s"
    run_wrk "$n" "$WARMUP" "$WORK/wrk-warmup-$n.txt" >/dev/null
    run_wrk "$n" "$WARMUP" "$WORK/wrk-warmup-page-$n.txt" case_page >/dev/null
done

# Paired rounds: in each round, every size in turn gets wrk against its
# server, then pgbench with the server's statement on its database. A shared
# machine's speed drifts by tens of percent between minutes: pairing keeps
# each comparison (server against pgbench, large database against small)
# inside one round, and the figures are the medians over the rounds, the
# ratios the medians of the rounds' own ratios.
for round in $(seq 1 "$ROUNDS"); do
    for n in "${SIZES_ARRAY[@]}"; do
        log "$n cases: round $round/$ROUNDS: wrk ${DURATION}s at $CONNS connections, then pgbench"
        read -r rps p50 p99 < <(run_wrk "$n" "$DURATION" "$WORK/wrk-$n-$round.txt")
        [[ -n $rps ]] || exit 1
        read -r tps pg_p50 pg_p99 < <(run_pgbench case_detail "$n" "${URL[$n]}" "${USER_ID[$n]}" 1)
        [[ -n $tps ]] || exit 1
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$rps" "$p50" "$p99" "$tps" "$pg_p50" "$pg_p99" \
            >>"$WORK/rounds-$n.tsv"
        log "$n cases: round $round/$ROUNDS: $rps req/s, p50 ${p50}us, p99 ${p99}us; pgbench $tps tps, p50 ${pg_p50}us, p99 ${pg_p99}us"
        read -r page_rps page_p50 page_p99 < <(run_wrk "$n" "$DURATION" "$WORK/wrk-page-$n-$round.txt" case_page)
        [[ -n $page_rps ]] || exit 1
        # The page's req/s over the API detail's of the same round.
        printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$page_rps" "$page_p50" "$page_p99" \
            "$(awk -v a="$page_rps" -v b="$rps" 'BEGIN { printf "%.2f", a / b }')" >>"$WORK/page-$n.tsv"
        log "$n cases: round $round/$ROUNDS: the page: $page_rps req/s, p50 ${page_p50}us, p99 ${page_p99}us"
    done
done

for n in "${SIZES_ARRAY[@]}"; do
    rss_kib=$(awk '/^VmHWM:/ { print $2 }' "/proc/${SERVER_PID[$n]}/status")
    # For comparison, once: the nine SELECTs a client needs when it reads
    # one relation per statement (what the server sent before it built the
    # case file in one statement).
    log "$n cases: pgbench case_detail_per_relation ${DURATION}s at $CONNS clients"
    read -r tps_per_relation _ < <(run_pgbench case_detail_per_relation "$n" "${URL[$n]}" "${USER_ID[$n]}" 0)
    [[ -n $tps_per_relation ]] || exit 1
    rounds=$WORK/rounds-$n.tsv
    # Column 8: the round's req/s / tps.
    awk -F'\t' -v OFS='\t' '{ print $0, $2 / $5 }' "$rounds" >"$rounds.r" && mv "$rounds.r" "$rounds"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "${SEED_S[$n]}" "${DB_SIZE[$n]}" \
        "$(median "$rounds" 2)" "$(median "$rounds" 3)" "$(median "$rounds" 4)" "$(median "$rounds" 5)" \
        "$rss_kib" "$(median "$rounds" 8)" "$tps_per_relation" "$(median "$rounds" 6)" "$(median "$rounds" 7)" >>"$RESULTS"
done

# The p99 of the largest size over the smallest's, round by round (the
# server's, then pgbench's own).
first=${SIZES_ARRAY[0]}
last=${SIZES_ARRAY[-1]}
paste "$WORK/rounds-$first.tsv" "$WORK/rounds-$last.tsv" |
    awk -F'\t' -v OFS='\t' '{ print $4 == 0 ? 0 : $12 / $4, $7 == 0 ? 0 : $15 / $7 }' >"$WORK/p99-ratios.tsv"
P99_RATIO=$(median "$WORK/p99-ratios.tsv" 1)
PG_P99_RATIO=$(median "$WORK/p99-ratios.tsv" 2)

echo
echo "GET /api/cases/{id}: $ROUNDS rounds, each size in turn: wrk -t $THREADS -c $CONNS -d ${DURATION}s, then pgbench -M prepared -c $CONNS -j $THREADS -T $DURATION; medians over the rounds"
echo "machine: $(nproc) cores, $(sed -nE 's/^model name\s*: //p' /proc/cpuinfo | head -1); PostgreSQL $(psql "$PG/postgres" -qAtc 'SHOW server_version' | cut -d' ' -f1), shared_buffers $(psql "$PG/postgres" -qAtc 'SHOW shared_buffers'), ssl $(psql "$PG/postgres" -qAtc 'SHOW ssl')"
awk -F'\t' -v p99_ratio="$P99_RATIO" -v pg_p99_ratio="$PG_P99_RATIO" '
BEGIN {
    printf "%10s %8s %9s %9s %9s %9s %11s %9s %9s %9s %13s %10s\n", "cases", "seed s", "db size", "req/s", "p50 ms", "p99 ms", "pgbench tps", "req/tps", "pg p50", "pg p99", "per-rel. tps", "peak RSS"
}
{
    printf "%10s %8s %9s %9s %9.2f %9.2f %11s %9.2f %9.2f %9.2f %13s %6.1f MiB\n", $1, $2, $3, $4, $5 / 1000, $6 / 1000, $7, $9, $11 / 1000, $12 / 1000, $10, $8 / 1024
    if (NR == 1) first = $1
    last = $1
    if ($9 < 0.5) ratio_fail = ratio_fail " " $1
    if ($8 / 1024 > 64) rss_fail = rss_fail " " $1
}
END {
    print ""
    printf "goal req/s >= 0.5 x pgbench tps: %s\n", ratio_fail == "" ? "met" : "missed at" ratio_fail
    if (NR > 1)
        printf "goal p99 at %s within 1.2 x p99 at %s (median of the rounds): %s (%.2fx; pgbench alone: %.2fx)\n", last, first, p99_ratio <= 1.2 ? "met" : "missed", p99_ratio, pg_p99_ratio
    printf "goal peak RSS <= 64 MiB: %s\n", rss_fail == "" ? "met" : "missed at" rss_fail
}' "$RESULTS"

echo
echo "GET /dossiers/{id} (the case page, session cookie): wrk as above, after the API detail in each round; medians over the rounds"
printf "%10s %9s %9s %9s %14s\n" "cases" "req/s" "p50 ms" "p99 ms" "page / API"
for n in "${SIZES_ARRAY[@]}"; do
    page=$WORK/page-$n.tsv
    printf "%10s %9s %9.2f %9.2f %14s\n" "$n" "$(median "$page" 2)" \
        "$(awk -v v="$(median "$page" 3)" 'BEGIN { print v / 1000 }')" \
        "$(awk -v v="$(median "$page" 4)" 'BEGIN { print v / 1000 }')" "$(median "$page" 5)"
done
echo "goal page req/s >= 0.5 x the API detail's: $(for n in "${SIZES_ARRAY[@]}"; do median "$WORK/page-$n.tsv" 5; echo; done |
    awk '$1 < 0.5 { miss = 1 } END { print miss ? "missed" : "met" }')"

if [[ ${BENCH_STORAGE:-1} != 0 ]]; then
    echo
    DMS=$DMS "$HERE/storage.sh"
fi
