#!/usr/bin/env bash
# Starts or stops the Redis Cluster the Redis store's tests use: three
# masters and three replicas on loopback.
#
#   scripts/redis-cluster.sh start   # prints TABKIT_REDIS_CLUSTER_URL's value
#   scripts/redis-cluster.sh url     # prints it without starting anything
#   scripts/redis-cluster.sh stop
#
# The nodes listen on 127.0.0.1, ports ${TABKIT_REDIS_CLUSTER_PORT:-7390}
# and the five after it (cluster bus: each port + 10000), keep no data on
# disk, and live in ${TABKIT_REDIS_CLUSTER_DIR:-/tmp/tabkit-redis-cluster-PORT},
# each node in a directory of its own with its PID file, nodes.conf and
# log; stop removes that directory. Both commands can be run twice.
#
# start also heals: a node that is not running (one a failover test
# killed) is started again from its nodes.conf and rejoins as a replica;
# a cluster that does not become whole is rebuilt from scratch. start
# returns once every node reports cluster_state:ok, every slot is served,
# each master has a replica in sync, and all nodes agree.
set -euo pipefail

base="${TABKIT_REDIS_CLUSTER_PORT:-7390}"
root="${TABKIT_REDIS_CLUSTER_DIR:-/tmp/tabkit-redis-cluster-${base}}"
ports=()
for i in 0 1 2 3 4 5; do
	ports+=("$((base + i))")
done

url() {
	local u="redis://127.0.0.1:${ports[0]}?" sep=""
	for p in "${ports[@]:1}"; do
		u+="${sep}addr=127.0.0.1:${p}"
		sep="&"
	done
	echo "$u"
}

cli() {
	local port="$1"
	shift
	redis-cli -h 127.0.0.1 -p "$port" "$@" 2>/dev/null
}

pidfile() { echo "$root/$1/$1.pid"; }

# alive reports whether process $1 runs. A killed daemon waits as a
# zombie until init reaps it, which can take seconds: that is not running.
alive() {
	local stat
	stat="$(ps -o stat= -p "$1" 2>/dev/null)" && [[ "$stat" != Z* ]]
}

running() {
	local f
	f="$(pidfile "$1")"
	[[ -s "$f" ]] && alive "$(cat "$f")"
}

answers() { [[ "$(cli "$1" ping)" == PONG ]]; }

# start_node starts the node on port $1 unless it runs. Its nodes.conf,
# when there, makes it rejoin the cluster it was in.
start_node() {
	local port="$1" dir="$root/$1"
	if running "$port"; then
		return 0
	fi
	if answers "$port"; then
		echo "redis-cluster: port $port answers, but not as a node of $root" >&2
		return 1
	fi
	mkdir -p "$dir"
	# cluster-require-full-coverage no: while a failed master's slots wait
	# for its replica, the other masters keep serving theirs. With Redis's
	# default (yes) every node refuses every command in that gap.
	# repl-diskless-sync-delay 0: a rejoining node gets its copy at once
	# rather than after 5 s.
	redis-server --cluster-enabled yes --cluster-config-file nodes.conf \
		--cluster-node-timeout 2000 --cluster-require-full-coverage no \
		--repl-diskless-sync-delay 0 \
		--bind 127.0.0.1 --port "$port" --dir "$dir" \
		--save '' --appendonly no \
		--daemonize yes --pidfile "$(pidfile "$port")" \
		--logfile "$dir/redis.log" >/dev/null
}

# wait_for seconds cmd... runs cmd every tenth of a second until it
# succeeds, for at most the given seconds.
wait_for() {
	local tenths=$(($1 * 10))
	shift
	for _ in $(seq "$tenths"); do
		if "$@"; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

all_answer() {
	local p
	for p in "${ports[@]}"; do
		answers "$p" || return 1
	done
}

# fresh reports whether no node knows another or serves a slot yet.
fresh() {
	local p info
	for p in "${ports[@]}"; do
		info="$(cli "$p" cluster info)"
		grep -q '^cluster_known_nodes:1' <<<"$info" || return 1
		grep -q '^cluster_slots_assigned:0' <<<"$info" || return 1
	done
}

# healthy reports whether every node sees the whole cluster working:
# state ok, all slots served, six nodes of which three masters with
# slots, no node flagged failing, and every replica in sync.
healthy() {
	local p info nodes
	for p in "${ports[@]}"; do
		info="$(cli "$p" cluster info)" || return 1
		grep -q '^cluster_state:ok' <<<"$info" || return 1
		grep -q '^cluster_slots_ok:16384' <<<"$info" || return 1
		grep -q '^cluster_known_nodes:6' <<<"$info" || return 1
		grep -q '^cluster_size:3' <<<"$info" || return 1
		nodes="$(cli "$p" cluster nodes)" || return 1
		if grep -qE 'fail|handshake|noaddr' <<<"$nodes"; then
			return 1
		fi
		if [[ "$(cli "$p" role | head -1)" == slave ]]; then
			cli "$p" info replication | grep -q '^master_link_status:up' || return 1
		fi
	done
	# Three masters, each with a replica (flags are the third field,
	# "myself,master" on the node asked).
	nodes="$(cli "${ports[0]}" cluster nodes)" || return 1
	[[ "$(awk '$3 ~ /master/' <<<"$nodes" | wc -l)" == 3 ]] || return 1
	[[ "$(awk '$3 ~ /slave/' <<<"$nodes" | wc -l)" == 3 ]] || return 1
}

create() {
	local addrs=() p
	for p in "${ports[@]}"; do
		addrs+=("127.0.0.1:$p")
	done
	redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes >"$root/create.log" 2>&1
}

not_alive() { ! alive "$1"; }

stop_nodes() {
	local p pid pids=()
	for p in "${ports[@]}"; do
		if running "$p"; then
			pid="$(cat "$(pidfile "$p")")"
			kill "$pid"
			pids+=("$pid")
		fi
	done
	for pid in "${pids[@]}"; do
		if ! wait_for 10 not_alive "$pid"; then
			echo "redis-cluster: redis-server $pid did not exit" >&2
			return 1
		fi
	done
}

build() {
	local p
	for p in "${ports[@]}"; do
		start_node "$p"
	done
	if ! wait_for 10 all_answer; then
		echo "redis-cluster: not every node answers" >&2
		return 1
	fi
	if fresh; then
		create
	fi
	# A new cluster needs a second or two; a rejoining node a full sync.
	wait_for 30 healthy
}

start() {
	if ! build; then
		echo "redis-cluster: cluster in $root is not whole; rebuilding it" >&2
		stop_nodes
		rm -rf "$root"
		if ! build; then
			echo "redis-cluster: the cluster in $root does not become healthy; see its */redis.log and create.log" >&2
			return 1
		fi
	fi
	url
}

stop() {
	stop_nodes
	rm -rf "$root"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
url) url ;;
*)
	echo "usage: $0 start|stop|url" >&2
	exit 2
	;;
esac
