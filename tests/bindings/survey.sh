#!/bin/sh
# survey.sh [COUNT] - each binding of tests/bindings/ as docs/bindings.md
# shows it: COUNT (default 20) messages of 100 B and of 1 MiB (pyzmq: and 1
# MiB with copy=False) under zcshim-run --mode profile, then zcshim-stat's
# per-socket view of its segment. Run from the top directory after make.
# With ZCSHIM_SURVEY_NODE set to a directory where `npm install zeromq@6`
# was run, zeromq.js too (tests/bindings/pushpull.cjs).
set -u
cd "$(dirname "$0")/../.."
count=${1:-20}
run() { # NAME COMMAND...
	name=$1
	shift
	echo "==== $name: $*"
	pid=$(build/zcshim-run --mode profile -- "$@" 2>&1 >/dev/null |
		sed -n 's/^zcshim-run: pid \([0-9]*\):.*/\1/p')
	if [ -z "$pid" ]; then
		echo "survey: $name: no segment" >&2
		return
	fi
	build/zcshim-stat --by both "$pid"
	build/zcshim-stat --json "$pid" | grep -o '"reach":{[^}]*}'
	rm -f /dev/shm/zcshim."$pid".*
}
ep=ipc:///tmp/zcshim-survey-$$
run "Ruby ffi-rzmq" /usr/bin/ruby tests/bindings/pushpull.rb "$ep-rb" "$count"
run "Perl ZMQ::FFI" /usr/bin/perl tests/bindings/pushpull.pl "$ep-pl" "$count"
run "PHP php-zmq" /usr/bin/php tests/bindings/pushpull.php "$ep-php" "$count"
run "Python pyzmq" /usr/bin/python3 tests/bindings/pushpull.py "$ep-py" "$count"
run "C++ cppzmq" build/zccppzmq "$ep-cpp" "$count"
if [ -n "${ZCSHIM_SURVEY_NODE:-}" ]; then
	run "Node zeromq.js" env NODE_PATH="$ZCSHIM_SURVEY_NODE/node_modules" node \
		tests/bindings/pushpull.cjs "$ep-js" "$count"
fi
