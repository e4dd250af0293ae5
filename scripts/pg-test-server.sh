#!/usr/bin/env bash
# Starts or stops the private PostgreSQL cluster the PostgreSQL store's
# tests use. It installs nothing (scripts/test.sh does that):
#
#   scripts/pg-test-server.sh start   # prints TABKIT_PG_URL's value
#   scripts/pg-test-server.sh stop    # fast shutdown; the data stays for the next start
#   scripts/pg-test-server.sh clean   # stop, then delete the cluster
#
# The cluster lives in ${TABKIT_PG_DIR:-/tmp/tabkit-pg-$port}, made by
# initdb as the postgres user when run as root (initdb refuses root),
# trusts every local connection (-A trust) and so listens on
# 127.0.0.1:${TABKIT_PG_PORT:-6433} only, with its socket in the same
# directory. It is found again by its postmaster.pid, so every command
# can be run twice.
set -euo pipefail

port="${TABKIT_PG_PORT:-6433}"
dir="${TABKIT_PG_DIR:-${TMPDIR:-/tmp}/tabkit-pg-${port}}"
data="$dir/data"
pidfile="$data/postmaster.pid"
user=tabkit
db=tabkit
url="postgres://${user}@127.0.0.1:${port}/${db}?sslmode=disable"

# bin is the newest installed PostgreSQL's bin directory, or the one
# initdb on the PATH comes from.
bin() {
	local d
	d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
	if [[ -z "$d" ]] && command -v initdb >/dev/null; then
		d="$(dirname "$(readlink -f "$(command -v initdb)")")"
	fi
	if [[ -z "$d" || ! -x "$d/initdb" ]]; then
		echo "pg-test-server: initdb not found; install postgresql (scripts/test.sh does)" >&2
		return 1
	fi
	echo "$d"
}

# as_owner runs a command as the cluster's owner: postgres when we are
# root, ourselves otherwise.
as_owner() {
	if [[ "$(id -u)" == 0 ]]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# pid prints the postmaster's PID when it runs.
pid() {
	[[ -s "$pidfile" ]] || return 1
	local p
	p="$(head -1 "$pidfile")"
	[[ "$p" =~ ^[0-9]+$ ]] && kill -0 "$p" 2>/dev/null || return 1
	echo "$p"
}

answers() {
	"$1/pg_isready" -q -h 127.0.0.1 -p "$port" -d postgres -U "$user" 2>/dev/null
}

start() {
	local b
	b="$(bin)"
	if ! pid >/dev/null && ! answers "$b"; then
		if [[ ! -s "$data/PG_VERSION" ]]; then
			mkdir -p "$dir"
			chmod 700 "$dir"
			[[ "$(id -u)" == 0 ]] && chown postgres: "$dir"
			as_owner "$b/initdb" -D "$data" -A trust -U "$user" -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 || {
				cat "$dir/initdb.log" >&2
				return 1
			}
		fi
		as_owner "$b/pg_ctl" -D "$data" -l "$dir/log" -w -t 30 \
			-o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null || {
			tail -20 "$dir/log" >&2
			return 1
		}
	fi
	for _ in $(seq 300); do
		if answers "$b"; then
			# The tests' database, made once per cluster.
			if ! "$b/psql" -h 127.0.0.1 -p "$port" -U "$user" -d postgres -Atqc \
				"SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
				"$b/createdb" -h 127.0.0.1 -p "$port" -U "$user" "$db"
			fi
			echo "$url"
			return 0
		fi
		sleep 0.1
	done
	echo "pg-test-server: PostgreSQL on port $port does not answer" >&2
	return 1
}

stop() {
	local p
	if ! p="$(pid)"; then
		return 0
	fi
	# SIGINT is PostgreSQL's fast shutdown: open transactions are rolled
	# back, and the data is consistent for the next start.
	kill -INT "$p"
	for _ in $(seq 300); do
		if ! kill -0 "$p" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "pg-test-server: postmaster $p did not exit" >&2
	return 1
}

clean() {
	stop
	rm -rf "$dir"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
clean) clean ;;
*)
	echo "usage: $0 start|stop|clean" >&2
	exit 2
	;;
esac
