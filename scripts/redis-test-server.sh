#!/usr/bin/env bash
# Starts or stops the redis-server the Redis store's tests use:
#
#   scripts/redis-test-server.sh start   # prints TABKIT_REDIS_URL's value
#   scripts/redis-test-server.sh stop
#
# The server listens on 127.0.0.1:${TABKIT_REDIS_PORT:-6390} only, keeps
# nothing on disk, and is found again by its PID file, so both commands
# can be run twice.
set -euo pipefail

port="${TABKIT_REDIS_PORT:-6390}"
pidfile="/tmp/tabkit-redis-${port}.pid"
url="redis://127.0.0.1:${port}/0"

running() {
	[[ -s "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

answers() {
	[[ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" == PONG ]]
}

start() {
	# A server already answering on the port (ours from an earlier start,
	# or one started by hand) is used as it is.
	if ! running && ! answers; then
		redis-server --bind 127.0.0.1 --port "$port" \
			--save '' --appendonly no \
			--daemonize yes --pidfile "$pidfile" >/dev/null
	fi
	# Up to ten seconds for the server to accept commands.
	for _ in $(seq 100); do
		if answers; then
			echo "$url"
			return 0
		fi
		sleep 0.1
	done
	echo "redis-test-server: redis-server on port $port does not answer" >&2
	return 1
}

stop() {
	if ! running; then
		rm -f "$pidfile"
		return 0
	fi
	local pid
	pid="$(cat "$pidfile")"
	kill "$pid"
	# Up to ten seconds for it to exit.
	for _ in $(seq 100); do
		if ! kill -0 "$pid" 2>/dev/null; then
			rm -f "$pidfile"
			return 0
		fi
		sleep 0.1
	done
	echo "redis-test-server: redis-server $pid did not exit" >&2
	return 1
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*)
	echo "usage: $0 start|stop" >&2
	exit 2
	;;
esac
