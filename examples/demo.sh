#!/bin/sh
# demo.sh - the bundled examples under libzcshim.so, then what zcshim-stat
# recorded of them. Run by `make demo`. zcdemo runs twice: first with no
# setting, which only profiles (nothing in the app changes), then with
# ZCSHIM_THRESHOLD=64k, which converts its zero-copy sends below 64k into
# copies. zcsockets then shows the per-socket view of a profile run.
set -eu
cd "$(dirname "$0")/.."

echo "\$ LD_PRELOAD=build/libzcshim.so build/zcdemo        # no setting: profile"
LD_PRELOAD="$PWD/build/libzcshim.so" build/zcdemo &
pid=$!
wait "$pid"
echo
echo "\$ build/zcshim-stat $pid"
build/zcshim-stat "$pid"

echo
echo "\$ LD_PRELOAD=build/libzcshim.so ZCSHIM_THRESHOLD=64k build/zcdemo    # convert below 64k"
LD_PRELOAD="$PWD/build/libzcshim.so" ZCSHIM_THRESHOLD=64k build/zcdemo &
pid=$!
wait "$pid"
echo
echo "\$ build/zcshim-stat $pid"
build/zcshim-stat "$pid"

echo
echo "\$ build/zcshim-stat"
build/zcshim-stat

echo
echo "\$ LD_PRELOAD=build/libzcshim.so build/zcsockets"
LD_PRELOAD="$PWD/build/libzcshim.so" build/zcsockets &
pid=$!
wait "$pid"
echo
echo "\$ build/zcshim-stat --by socket $pid"
build/zcshim-stat --by socket "$pid"

# The pipeline view: three processes, a fast source, a middle stage that
# takes 500 us a message, a sink; small queues (--hwm, --sockbuf), so the
# slow middle holds the source back at once. The source and the sink bind
# the wildcard address on a port the kernel picks; the middle connects to
# both through localhost. The source stays (--hold, until its stdin
# closes) until the sink has everything: a sender that exits while its
# receiver is held at its high-water mark can lose what the kernel still
# buffers, whatever its ZMQ_LINGER (docs/pipeline.md). Sampling is the
# default (ZCSHIM_SAMPLE=auto): the split of time is an estimate.
echo
echo "\$ # source -> middle (500 us a message) -> sink, each its own process under the shim,"
echo "\$ # zcsource and zcsink bound to tcp://*:*"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
bound_port() { # the port a stage printed as bound=tcp://0.0.0.0:PORT
	i=0
	while ! grep -q '^bound=' "$1" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -lt 200 ] || { echo "demo.sh: no bound= in $1" >&2; exit 1; }
		sleep 0.05
	done
	sed -n 's/^bound=.*:\([0-9]*\)$/\1/p' "$1" | head -1
}
mkfifo "$out/hold"
LD_PRELOAD="$PWD/build/libzcshim.so" build/zcsink --in '@tcp://*:*' --count 4000 \
	--hwm 10 --sockbuf 8192 >"$out/sink" &
sink=$!
LD_PRELOAD="$PWD/build/libzcshim.so" build/zcsource --out '@tcp://*:*' --count 4000 \
	--size 1000 --hwm 10 --sockbuf 8192 --hold <"$out/hold" >"$out/source" &
source=$!
exec 3>"$out/hold"
sink_port=$(bound_port "$out/sink")
source_port=$(bound_port "$out/source")
LD_PRELOAD="$PWD/build/libzcshim.so" build/zcmiddle --in "tcp://localhost:$source_port" \
	--out "tcp://localhost:$sink_port" --work-us 500 --count 4000 --hwm 10 --sockbuf 8192 \
	>"$out/middle" &
middle=$!
sleep 1
echo
echo "\$ build/zcshim-stat --pipeline $source $middle $sink     # while it runs"
build/zcshim-stat --pipeline "$source" "$middle" "$sink"
wait "$sink" "$middle"
exec 3>&-
wait "$source"
echo
echo "\$ build/zcshim-stat --pipeline $source $middle $sink     # once all three have exited"
build/zcshim-stat --pipeline "$source" "$middle" "$sink"
echo
echo "(the stages' own counts:"
grep -h '^stage=' "$out/source" "$out/middle" "$out/sink"
echo ")"
