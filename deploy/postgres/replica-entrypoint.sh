#!/bin/sh
# Entry point of a shard's streaming replica (official postgres image, run as
# the postgres user): on an empty data directory, clone the primary with
# pg_basebackup (-R writes primary_conninfo and standby.signal), then run
# Postgres as a hot standby. Later starts reuse the data directory.
set -eu
: "${PGDATA:?}" "${PRIMARY_HOST:?}" "${REPLICATION_PASSWORD:?}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready --host="$PRIMARY_HOST" --port=5432 --quiet; do
    echo "waiting for $PRIMARY_HOST"; sleep 1
  done
  mkdir -p "$PGDATA"
  find "$PGDATA" -mindepth 1 -delete
  chmod 0700 "$PGDATA"
  PGPASSWORD="$REPLICATION_PASSWORD" pg_basebackup --host="$PRIMARY_HOST" --username=replicator \
    --pgdata="$PGDATA" --wal-method=stream --write-recovery-conf --checkpoint=fast --progress
fi
exec postgres -c hot_standby=on
