#!/usr/bin/env bash
# Logical backup of TDS New: the database (pg_dump, custom format) and the platform CA
# (TDS_PKI_DIR: its private key exists nowhere else). Usage:
#   DATABASE_URL=postgres://... TDS_PKI_DIR=/var/lib/tds/pki bin/backup.sh /var/backups/tds
# Writes <dir>/tds-<UTC timestamp>.dump and, when TDS_PKI_DIR exists, <dir>/pki-<ts>.tar.gz
# (mode 0600: it holds the CA key). Restore with bin/restore.sh. See README, "Backups".
set -euo pipefail
out_dir=${1:?usage: bin/backup.sh OUTPUT_DIR}
: "${DATABASE_URL:?DATABASE_URL must be set}"
umask 077
mkdir -p "$out_dir"
ts=$(date -u +%Y%m%dT%H%M%SZ)
dump="$out_dir/tds-$ts.dump"
# On TimescaleDB pg_dump warns about the hypertables' circular foreign keys: harmless.
pg_dump --format=custom --no-owner --file "$dump" "$DATABASE_URL"
echo "$dump"
if [ -n "${TDS_PKI_DIR:-}" ] && [ -d "$TDS_PKI_DIR" ]; then
    tar -C "$(dirname "$TDS_PKI_DIR")" -czf "$out_dir/pki-$ts.tar.gz" "$(basename "$TDS_PKI_DIR")"
    echo "$out_dir/pki-$ts.tar.gz"
fi
