#!/usr/bin/env bash
# Files and instances benchmark (issue 19), run by scripts/bench_server.sh
# (or alone with BENCH_NO_BUILD=1 after a release build):
#  - on each backend (the data directory; a bucket of s3s-fs on loopback,
#    signed requests): STORAGE_ROUNDS rounds of 16 concurrent 50 MB uploads
#    (one DAO in each of 16 new cases), then 16 concurrent downloads of
#    them, through curl: MB/s of each batch, p99 of the requests' times,
#    and the server's peak RSS (VmHWM) over the whole run (goal < 128 MiB);
#  - GET /api/cases/{id} through wrk against one instance, then against
#    two instances on the same database (half the connections each, at
#    the same time): requests per second and p99.
#
# Settings (environment): BENCH_PG, BENCH_PORT (this part uses PORT+10..12),
# BENCH_DURATION, BENCH_CONNS as scripts/bench_server.sh; STORAGE_ROUNDS
# (default 3); STORAGE_BACKENDS (default "local s3"); S3S_FS (the s3s-fs
# binary, default from PATH or ~/.cargo/bin).
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
DMS=${DMS:-$ROOT/target/release/dms}
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
PORT=$(( ${BENCH_PORT:-5077} + 10 ))
DURATION=${BENCH_DURATION:-10}
CONNS=${BENCH_CONNS:-16}
ROUNDS=${STORAGE_ROUNDS:-3}
BACKENDS=${STORAGE_BACKENDS:-"local s3"}
S3S_FS=${S3S_FS:-$(command -v s3s-fs || echo "${CARGO_HOME:-$HOME/.cargo}/bin/s3s-fs")}
UPLOADS=16
SIZE=50000000
SECRET=$(od -An -N32 -tx1 /dev/urandom | tr -d " \n")

WORK=$(mktemp -d /tmp/dms-bench-storage.XXXXXX)
PIDS=()
DB=dms_bench_storage_$$
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    psql "$PG/postgres" -qAtc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

log() { printf '[bench storage %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
now() { date +%s.%N; }

wait_up() {
    local port=$1 pid=$2
    for _ in $(seq 1 300); do
        curl -fsS "http://127.0.0.1:$port/api/health" >/dev/null 2>&1 && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "bench: the server on port $port did not start:" >&2
    cat "$WORK/server-$port.log" >&2
    exit 1
}

# dms serve on port $1 with the storage of backend $2 and data directory
# $3; its pid in SERVED.
serve() {
    local port=$1 backend=$2 data=$3
    local env=(DATABASE_URL="$PG/$DB" DMS_BIND="127.0.0.1:$port" DMS_DATA_DIR="$data"
        DMS_JWT_SECRET="$SECRET" DMS_UPLOAD_LIMIT=100000 DMS_CASE_LIMIT=100000)
    if [[ $backend == s3 ]]; then
        env+=(DMS_STORAGE_URL=s3://bench/dms AWS_ENDPOINT_URL="http://127.0.0.1:$((PORT + 2))"
            AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret-0123456789
            AWS_REGION=us-east-1 AWS_ALLOW_HTTP=true)
    fi
    env "${env[@]}" "$DMS" serve --migrate >"$WORK/server-$port.log" 2>&1 &
    SERVED=$!
    PIDS+=("$SERVED")
    wait_up "$port" "$SERVED"
}

# p99 (nearest rank) and the count of the numbers on standard input.
p99() { sort -n | awk '{ v[NR] = $1 } END { i = int(NR * 0.99 + 0.999); if (i < 1) i = 1; printf "%.3f", v[i] }'; }

# The file: a PDF header and padding, 50 MB (under the 50 MiB limit).
{
    printf '%%PDF-1.4\n1 0 obj << >> endobj\n'
    head -c $((SIZE - 40)) /dev/zero | tr '\0' ' '
    printf '\n%%%%EOF\n'
} | head -c "$SIZE" >"$WORK/upload.pdf"

RESULTS=$WORK/results.tsv
: >"$RESULTS"
CASE_PATH=
for backend in $BACKENDS; do
    psql "$PG/postgres" -qAtc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
    psql "$PG/postgres" -qAtc "CREATE DATABASE $DB" >/dev/null
    rm -rf "$WORK/data" "$WORK/s3"
    if [[ $backend == s3 ]]; then
        [[ -x $S3S_FS ]] || { echo "bench: s3s-fs is missing (cargo install s3s-fs@0.14.1 --features binary)" >&2; exit 2; }
        mkdir -p "$WORK/s3/bench"
        "$S3S_FS" --host 127.0.0.1 --port $((PORT + 2)) --access-key bench \
            --secret-key bench-secret-0123456789 "$WORK/s3" >"$WORK/s3.log" 2>&1 &
        S3_PID=$!
        PIDS+=("$S3_PID")
        sleep 1
    fi
    serve "$PORT" "$backend" "$WORK/data"
    pid=$SERVED
    base=http://127.0.0.1:$PORT
    token=$(curl -fsS "$base/auth/token" --data-urlencode username=admin \
        --data-urlencode 'password=Admin123!' | sed -E 's/.*"access_token" *: *"([^"]+)".*/\1/')
    for round in $(seq 1 "$ROUNDS"); do
        ids=()
        for i in $(seq 1 $UPLOADS); do
            ids+=("$(curl -fsS "$base/api/cases" -H "Authorization: Bearer $token" \
                -H 'Content-Type: application/json' \
                -d "{\"case_type\":\"DAO\",\"title\":\"Bench $round-$i\"}" |
                sed -E 's/.*"id" *: *"([^"]+)".*/\1/')")
        done
        log "$backend: round $round/$ROUNDS: $UPLOADS concurrent uploads of $SIZE bytes"
        t0=$(now)
        batch=()
        for i in $(seq 0 $((UPLOADS - 1))); do
            curl -sS -o "$WORK/up-$i.json" -w '%{http_code} %{time_total}\n' \
                -H "Authorization: Bearer $token" -F "file=@$WORK/upload.pdf;filename=dao.pdf" \
                "$base/api/cases/${ids[$i]}/upload-dao" >"$WORK/up-$i.txt" &
            batch+=($!)
        done
        wait "${batch[@]}" || true
        t1=$(now)
        bad=$(cat "$WORK"/up-*.txt | awk '$1 != 200' | wc -l)
        [[ $bad == 0 ]] || { echo "bench: $bad uploads failed:" >&2; cat "$WORK"/up-*.json >&2; exit 1; }
        up_p99=$(cat "$WORK"/up-*.txt | awk '{ print $2 }' | p99)
        up_mbs=$(awk -v a="$t0" -v b="$t1" -v n=$UPLOADS -v s=$SIZE 'BEGIN { printf "%.1f", n * s / 1e6 / (b - a) }')
        log "$backend: round $round: downloads"
        t0=$(now)
        batch=()
        for i in $(seq 0 $((UPLOADS - 1))); do
            artifact=$(sed -E 's/.*"artifact_id" *: *"([^"]+)".*/\1/' "$WORK/up-$i.json")
            curl -sS -o /dev/null -w '%{http_code} %{time_total} %{size_download}\n' \
                -H "Authorization: Bearer $token" \
                "$base/api/cases/${ids[$i]}/artifacts/$artifact" >"$WORK/down-$i.txt" &
            batch+=($!)
        done
        wait "${batch[@]}" || true
        t1=$(now)
        bad=$(cat "$WORK"/down-*.txt | awk -v s=$SIZE '$1 != 200 || $3 != s' | wc -l)
        [[ $bad == 0 ]] || { echo "bench: $bad downloads failed" >&2; exit 1; }
        down_p99=$(cat "$WORK"/down-*.txt | awk '{ print $2 }' | p99)
        down_mbs=$(awk -v a="$t0" -v b="$t1" -v n=$UPLOADS -v s=$SIZE 'BEGIN { printf "%.1f", n * s / 1e6 / (b - a) }')
        printf "%s\t%s\t%s\t%s\t%s\t%s\n" "$backend" "$round" "$up_mbs" "$up_p99" "$down_mbs" "$down_p99" >>"$RESULTS"
        CASE_PATH=/api/cases/${ids[0]}
    done
    rss_kib=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
    printf "%s\trss\t%s\n" "$backend" "$rss_kib" >>"$RESULTS"

    if [[ $backend == local ]]; then
        # Two instances against one, on this database and data directory.
        log "one instance: GET $CASE_PATH, wrk ${DURATION}s at $CONNS connections"
        BENCH_TOKEN=$token BENCH_PATH=$CASE_PATH wrk -t 2 -c "$CONNS" -d "${DURATION}s" \
            -s scripts/bench/one_path.lua "$base" >"$WORK/wrk-one.txt"
        serve $((PORT + 1)) local "$WORK/data"
        pid2=$SERVED
        log "two instances: wrk at $((CONNS / 2)) connections on each, at once"
        BENCH_TOKEN=$token BENCH_PATH=$CASE_PATH wrk -t 1 -c $((CONNS / 2)) -d "${DURATION}s" \
            -s scripts/bench/one_path.lua "$base" >"$WORK/wrk-two-a.txt" &
        a=$!
        BENCH_TOKEN=$token BENCH_PATH=$CASE_PATH wrk -t 1 -c $((CONNS / 2)) -d "${DURATION}s" \
            -s scripts/bench/one_path.lua "http://127.0.0.1:$((PORT + 1))" >"$WORK/wrk-two-b.txt"
        wait $a
        kill "$pid2" 2>/dev/null || true
    fi
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    if [[ $backend == s3 ]]; then
        kill "$S3_PID" 2>/dev/null || true
    fi
done

rps() { sed -nE 's/^BENCH requests=([0-9]+) duration_us=([0-9]+) .*/\1 \2/p' "$@" | awk '{ r += $1 / ($2 / 1e6) } END { printf "%.0f", r }'; }
p99_ms() { sed -nE 's/^BENCH .* p99_us=([0-9]+) .*/\1/p' "$@" | sort -n | tail -1 | awk '{ printf "%.2f", $1 / 1000 }'; }

echo
echo "Files: $ROUNDS rounds of $UPLOADS concurrent uploads of $SIZE bytes (curl -F), then $UPLOADS concurrent downloads of them; MB/s of each batch, p99 of its requests' seconds"
echo "machine: $(nproc) cores, $(sed -nE 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
printf "%8s %6s %12s %12s %12s %12s\n" backend round "up MB/s" "up p99 s" "down MB/s" "down p99 s"
awk -F'\t' '$2 != "rss" { printf "%8s %6s %12s %12s %12s %12s\n", $1, $2, $3, $4, $5, $6 }' "$RESULTS"
awk -F'\t' '$2 == "rss" { printf "%s: server peak RSS %.1f MiB (goal < 128 MiB: %s)\n", $1, $3 / 1024, $3 / 1024 < 128 ? "met" : "missed" }' "$RESULTS"
if [[ -f $WORK/wrk-one.txt ]]; then
    echo
    echo "GET /api/cases/{id}: wrk ${DURATION}s, $CONNS connections on one instance, then $((CONNS / 2)) on each of two (same database)"
    printf "%10s %9s %9s\n" instances "req/s" "p99 ms"
    printf "%10s %9s %9s\n" 1 "$(rps "$WORK/wrk-one.txt")" "$(p99_ms "$WORK/wrk-one.txt")"
    printf "%10s %9s %9s\n" 2 "$(rps "$WORK"/wrk-two-*.txt)" "$(p99_ms "$WORK"/wrk-two-*.txt)"
fi
