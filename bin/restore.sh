#!/usr/bin/env bash
# Restores a bin/backup.sh dump into a NEW database (never over a live one). Usage:
#   bin/restore.sh /var/backups/tds/tds-20261130T120000Z.dump postgres://postgres@127.0.0.1:5432/tds_restored
# Creates the target database (it must not exist), restores, and checks that the schema
# is complete (`manage.py migrate --check` against it). On TimescaleDB the restore runs
# between timescaledb_pre_restore() and timescaledb_post_restore(), as TimescaleDB asks.
# Then point DATABASE_URL at it (or rename it) and restart the services.
set -euo pipefail
dump=${1:?usage: bin/restore.sh DUMP TARGET_DATABASE_URL}
target=${2:?usage: bin/restore.sh DUMP TARGET_DATABASE_URL}
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
[ -x "$python" ] || python=python3
name=${target##*/}
server=${target%/*}/postgres
if [ "$(psql -XAtq "$server" -c "SELECT 1 FROM pg_database WHERE datname = '$name'")" = 1 ]; then
    echo "restore.sh: database $name exists; restore into a new one" >&2
    exit 1
fi
psql -Xq "$server" -c "CREATE DATABASE \"$name\""
timescale=0
# The listing is read whole before grep: `pg_restore --list | grep -q` under pipefail
# failed whenever grep quit at the first match while pg_restore was still writing
# (SIGPIPE), which a listing larger than the pipe buffer (any real TimescaleDB database:
# hundreds of chunks) made nearly certain, and the restore then ran without pre_restore.
listing=$(pg_restore --list "$dump")
if grep -q "EXTENSION - timescaledb" <<<"$listing"; then
    timescale=1
    psql -Xq "$target" -c "CREATE EXTENSION IF NOT EXISTS timescaledb" -c "SELECT timescaledb_pre_restore()"
fi
pg_restore --no-owner --exit-on-error --dbname "$target" "$dump"
if [ "$timescale" = 1 ]; then
    psql -Xq "$target" -c "SELECT timescaledb_post_restore()"
fi
DATABASE_URL="$target" DJANGO_DEBUG=${DJANGO_DEBUG:-on} "$python" manage.py migrate --check >/dev/null
echo "restored into $name: schema up to date"
