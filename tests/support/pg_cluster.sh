#!/usr/bin/env bash
# A throw-away PostgreSQL 15 cluster for the tests: its own data directory,
# a Unix socket in that directory and a free TCP port on 127.0.0.1, trust
# authentication for the user postgres, fsync on (the crash tests rely on a
# commit being on disk). PostgreSQL refuses to run as root: as root, the
# server programs run as the user postgres (runuser) and DIR is given to it.
#
#   pg_cluster.sh available          exit 0 if the server programs are here
#   pg_cluster.sh start DIR          initdb into DIR/data, start; DIR must be new
#                                    or empty. Prints the base connection string
#   pg_cluster.sh url DIR DB         prints the URL of database DB (TCP)
#   pg_cluster.sh createdb DIR DB    creates database DB; prints its URL
#   pg_cluster.sh kill DIR           SIGKILL to the postmaster and every backend
#                                    of this cluster (by their ids), as a crash
#   pg_cluster.sh restart DIR        starts the cluster again on the same port
#                                    (after kill: crash recovery)
#   pg_cluster.sh stop DIR           stops it and removes DIR
#
# Sourced by the tests as a command; every failure says why in one line.
set -euo pipefail

PG_BIN=${PSI_PG_BIN:-/usr/lib/postgresql/15/bin}

die() {
    printf 'pg_cluster: %s\n' "$*" >&2
    exit 1
}

as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# A port below the kernel's ephemeral range (an outgoing connection of
# another test may take one in that range at any moment, as
# tests/e2e/lib/harness.bash says), free to bind now.
free_tcp_port() {
    python3 - <<'PY'
import random, socket
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(200):
    port = random.randrange(10000, low)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
else:
    raise SystemExit("pg_cluster: no free port below %d" % low)
PY
}

pg_start() {
    local dir=$1 port
    port=$(cat "$dir/port")
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-k $dir -h 127.0.0.1 -p $port" start >/dev/null ||
        die "the server did not start; its log: $(tail -n 5 "$dir/server.log" 2>/dev/null)"
}

url_of() {
    local dir=$1 db=$2
    printf 'postgresql://postgres@127.0.0.1:%s/%s\n' "$(cat "$dir/port")" "$db"
}

cmd=${1:-}
case "$cmd" in
available)
    [ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] && [ -x "$PG_BIN/postgres" ]
    ;;
start)
    dir=${2:?usage: pg_cluster.sh start DIR}
    [ -x "$PG_BIN/initdb" ] || die "no PostgreSQL server programs in $PG_BIN"
    mkdir -p "$dir"
    [ -z "$(ls -A "$dir")" ] || die "$dir is not empty"
    if [ "$(id -u)" -eq 0 ]; then
        getent passwd postgres >/dev/null || die "no user postgres to run the server as"
        chown postgres: "$dir"
        runuser -u postgres -- test -w "$dir" ||
            die "the user postgres cannot reach $dir (a parent directory closed to it? set TMPDIR)"
    fi
    chmod 0700 "$dir"
    free_tcp_port >"$dir/port"
    as_pg "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C \
        >"$dir/initdb.log" 2>&1 || die "initdb failed: $(tail -n 3 "$dir/initdb.log")"
    {
        echo "fsync = on"
        echo "synchronous_commit = on"
        echo "max_connections = 200"
        echo "shared_buffers = 64MB"
        echo "listen_addresses = '127.0.0.1'"
    } >>"$dir/data/postgresql.conf"
    pg_start "$dir"
    url_of "$dir" postgres
    ;;
url)
    url_of "${2:?usage: pg_cluster.sh url DIR DB}" "${3:?usage: pg_cluster.sh url DIR DB}"
    ;;
createdb)
    dir=${2:?usage: pg_cluster.sh createdb DIR DB}
    db=${3:?usage: pg_cluster.sh createdb DIR DB}
    "$PG_BIN/createdb" -h 127.0.0.1 -p "$(cat "$dir/port")" -U postgres "$db" ||
        die "cannot create database $db"
    url_of "$dir" "$db"
    ;;
kill)
    dir=${2:?usage: pg_cluster.sh kill DIR}
    [ -f "$dir/data/postmaster.pid" ] || die "no running cluster in $dir"
    pm=$(head -n 1 "$dir/data/postmaster.pid")
    # The backends first (children of the postmaster), then the postmaster:
    # every process of the cluster dies at once, as in a power cut.
    children=$(pgrep -P "$pm" || true)
    kill -KILL "$pm" $children 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pm" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pm" 2>/dev/null && die "the postmaster $pm outlived SIGKILL"
    for c in $children; do
        for _ in $(seq 50); do kill -0 "$c" 2>/dev/null || break; sleep 0.1; done
    done
    ;;
restart)
    dir=${2:?usage: pg_cluster.sh restart DIR}
    pg_start "$dir"
    ;;
stop)
    dir=${2:?usage: pg_cluster.sh stop DIR}
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
*)
    die "usage: pg_cluster.sh available|start|url|createdb|kill|restart|stop DIR [DB]"
    ;;
esac
