#!/bin/sh
# The compose standby: cloned from the primary on first start (pg_basebackup -R writes
# primary_conninfo and standby.signal), then a hot standby streaming synchronously under the name
# the primary's synchronous_standby_names lists. After `pg_ctl promote` it is the primary; its own
# synchronous_standby_names is empty so it does not wait for a standby it does not have yet.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -h postgres -U replicator -q; do sleep 1; done
  PGPASSWORD="$REPLICATION_PASSWORD" pg_basebackup -h postgres -U replicator -D "$PGDATA" -R -X stream
  cat >> "$PGDATA/postgresql.auto.conf" <<CONF
primary_conninfo = 'host=postgres user=replicator password=$REPLICATION_PASSWORD application_name=standby'
synchronous_standby_names = ''
hot_standby = on
hot_standby_feedback = on
CONF
  chmod 700 "$PGDATA"
fi
# A hot standby needs at least the primary's max_connections (and the other limits it sets).
exec postgres -c max_connections=200 -c shared_buffers=512MB
