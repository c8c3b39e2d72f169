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
