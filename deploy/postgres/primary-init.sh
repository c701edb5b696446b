#!/bin/sh
# First start of the compose primary (docker-entrypoint-initdb.d): a replication role, the pg_hba
# line that lets the standby stream from it, and synchronous replication (docs/deployment.md, "The
# primary and its synchronous standby"). synchronous_standby_names is set here, for the real server
# after initialization: given as a -c flag it would also apply to the image's temporary set-up
# server, whose CREATE DATABASE would then wait for a standby that cannot exist yet.
set -eu
psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" <<SQL
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD '$REPLICATION_PASSWORD';
ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 (standby)';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
