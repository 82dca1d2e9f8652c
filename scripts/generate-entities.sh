#!/usr/bin/env bash
# Regenerates the `entity` crate (entity/src/) from the schema the migration
# chain creates: a fresh PostgreSQL database is migrated to head with our own
# migration binary, then sea-orm-cli writes one entity per table.
#
# The entities are generated output: never edit entity/src/ by hand, change a
# revision and run this script instead. Run on an unchanged tree it must leave
# `git diff entity/` empty (the drift test in tests/entities.rs checks the
# committed entities against the live schema on every backend).
#
# Usage: scripts/generate-entities.sh
#   DMS_GEN_POSTGRES_URL  PostgreSQL server to use (falls back to
#                         DMS_TEST_POSTGRES_URL, then
#                         postgres://postgres@127.0.0.1:5432); a database
#                         named dms_entities_<pid> is created and dropped there.
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned: another version may format or name things differently, and the
# committed entities must be reproducible.
SEA_ORM_CLI_VERSION=2.0.4

die() {
  echo "error: $*" >&2
  exit 1
}

server="${DMS_GEN_POSTGRES_URL:-${DMS_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}}"
server="${server%/}"
# Keep scheme://authority: the script names its own database.
case "$server" in
  *://*/*) server="${server%/*}" ;;
esac

command -v psql >/dev/null || die "psql not found (install postgresql-client)"

if [ "$(sea-orm-cli --version 2>/dev/null || true)" != "sea-orm-cli $SEA_ORM_CLI_VERSION" ]; then
  echo "installing sea-orm-cli $SEA_ORM_CLI_VERSION"
  cargo install "sea-orm-cli@$SEA_ORM_CLI_VERSION" --locked
fi

db="dms_entities_$$"
url="$server/$db"
out="$(mktemp -d)"

cleanup() {
  rm -rf "$out"
  psql -q -v ON_ERROR_STOP=1 -d "$server/postgres" \
    -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

psql -q -v ON_ERROR_STOP=1 -d "$server/postgres" -c "CREATE DATABASE $db" \
  || die "cannot create database $db on $server (is PostgreSQL running?)"

cargo run --quiet -p migration -- -u "$url" up

# --entity-format dense: relations are fields of the model (has_many,
# belongs_to, has_many via a junction table), from which the model macro
# derives the same Relation enum and Related impls as the compact format
# (find_with_related, find_also_related, LoaderTrait), plus the 2.0 entity
# loader. --lib: the crate root is lib.rs. Bookkeeping tables are not
# entities.
sea-orm-cli generate entity \
  --database-url "$url" \
  --entity-format dense \
  --with-serde both \
  --lib \
  --ignore-tables seaql_migrations,alembic_version,dms_revision_checksums \
  --output-dir "$out" >/dev/null

# The generator's output is rustfmt-clean today; formatting anyway keeps
# `cargo fmt --check` green should a later version differ.
rustfmt --edition 2024 "$out"/*.rs

rm -rf entity/src
mkdir -p entity/src
cp "$out"/*.rs entity/src/
echo "entity/src regenerated ($(ls entity/src | wc -l) files)"
