#!/bin/sh
# Runs once, when the official postgres image initialises a shard primary's
# empty data directory: a role for streaming replication and its pg_hba line.
set -eu
: "${REPLICATION_PASSWORD:?set REPLICATION_PASSWORD (see .env.example)}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v password="$REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'password';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
