#!/usr/bin/env bash
# Times `dms backup` and `dms restore` of a SQLite database naming N stored
# files of SIZE_KB KiB each (random bytes), and prints the backup's size.
# Usage: scripts/bench_backup.sh [N] [SIZE_KB] [DMS_BINARY]
# (default 1000 files of 100 KiB, target/release/dms or else target/debug/dms).
# Everything is made in a temporary directory, removed at the end.
set -euo pipefail
n=${1:-1000}
size_kb=${2:-100}
root=$(cd "$(dirname "$0")/.." && pwd)
dms=${3:-}
if [ -z "$dms" ]; then
  dms="$root/target/release/dms"
  [ -x "$dms" ] || dms="$root/target/debug/dms"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export DATABASE_URL="sqlite://$work/dms.db?mode=rwc" DMS_DATA_DIR="$work/data" DMS_LOG=warn
# The first command migrates the embedded file.
echo 'Bench-password-1' | "$dms" user create --username bench --email bench@example.org >/dev/null
mkdir -p data/uploads/bench-case
{
  echo "BEGIN;"
  echo "INSERT INTO cases (id, case_type, title, created_at, status) VALUES ('bench-case', 'DAO', 'Bench', '2026-01-01T00:00:00', 'open');"
  for i in $(seq 1 "$n"); do
    echo "INSERT INTO artifacts (id, case_id, kind, filename, path, uploaded_at) VALUES ('a$i', 'bench-case', 'offer', 'offre$i.pdf', 'uploads/bench-case/offer_$i.pdf', '2026-01-01T00:00:00');"
  done
  echo "COMMIT;"
} | sqlite3 dms.db
for i in $(seq 1 "$n"); do
  head -c "$((size_kb * 1024))" /dev/urandom > "data/uploads/bench-case/offer_$i.pdf"
done
sync
echo "files: $n x $size_kb KiB ($(du -sh data | cut -f1) in the data directory), binary: $dms"
start=$(date +%s.%N)
"$dms" backup "$work/backup"
end=$(date +%s.%N)
echo "backup: $(echo "$end - $start" | bc) s, $(du -sh backup | cut -f1) written"
start=$(date +%s.%N)
DATABASE_URL="sqlite://$work/restored/dms.db?mode=rwc" DMS_DATA_DIR="$work/restored/data" \
  "$dms" restore "$work/backup"
end=$(date +%s.%N)
echo "restore: $(echo "$end - $start" | bc) s"
start=$(date +%s.%N)
find data -type f -exec cat {} + | sha256sum >/dev/null
end=$(date +%s.%N)
echo "baseline, reading and hashing the same files with cat | sha256sum: $(echo "$end - $start" | bc) s"
