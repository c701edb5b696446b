#!/bin/sh
# Writes pgbouncer.ini and the user list from the environment, then runs PgBouncer in the foreground.
#   PRIMARY_HOST  the address that follows the primary (after a promotion, point it at the new one)
#   DB_USER, DB_PASSWORD, DB_NAME, POOL_SIZE
set -eu
dir=/tmp/pgbouncer
mkdir -p "$dir"
printf '"%s" "%s"\n' "$DB_USER" "$DB_PASSWORD" > "$dir/userlist.txt"
cat > "$dir/pgbouncer.ini" <<INI
[databases]
$DB_NAME = host=$PRIMARY_HOST port=5432 dbname=$DB_NAME
[pgbouncer]
listen_addr = 0.0.0.0
listen_port = 6432
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
pool_mode = transaction
default_pool_size = ${POOL_SIZE:-20}
max_client_conn = 2000
ignore_startup_parameters = extra_float_digits
INI
exec pgbouncer "$dir/pgbouncer.ini"
