#!/bin/sh
# First start of the compose primary (docker-entrypoint-initdb.d): a replication role and the
# pg_hba line that lets the standby stream from it (docs/deployment.md, "The primary and its
# synchronous standby").
set -eu
psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -c "CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD '$REPLICATION_PASSWORD'"
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
