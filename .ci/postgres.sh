# Sourced by .ci/run: install PostgreSQL if the machine lacks it, start a throwaway server on
# loopback, and export PARTYBOT_TEST_POSTGRES_URL for the tests. Stopped when CI exits.
pg_bin_dir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

if [ -z "$(pg_bin_dir)" ]; then
    echo "ci: installing PostgreSQL from Debian"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
PG_BIN=$(pg_bin_dir)
PG_PORT=${PG_PORT:-54329}
PG_DATA=$(mktemp -d /tmp/partybot-pg.XXXXXX)
chown postgres:postgres "$PG_DATA"
su postgres -s /bin/sh -c "$PG_BIN/initdb -D $PG_DATA -A trust -U postgres --no-sync -E UTF8" >/dev/null
su postgres -s /bin/sh -c "$PG_BIN/pg_ctl -D $PG_DATA -w -l $PG_DATA/server.log \
    -o '-p $PG_PORT -k $PG_DATA -c listen_addresses=127.0.0.1 -c fsync=off' start" >/dev/null
trap 'su postgres -s /bin/sh -c "$PG_BIN/pg_ctl -D $PG_DATA -m fast stop" >/dev/null 2>&1 || true' EXIT
su postgres -s /bin/sh -c "$PG_BIN/createdb -h 127.0.0.1 -p $PG_PORT partybot_test"
export PARTYBOT_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/partybot_test"
echo "ci: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT"
