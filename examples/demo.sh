#!/bin/sh
# demo.sh - the bundled examples: run zcdemo and zcsockets under
# libzcshim.so, then show what zcshim-stat recorded of them. Run by
# `make demo`.
set -eu
cd "$(dirname "$0")/.."

echo "\$ LD_PRELOAD=build/libzcshim.so ZCSHIM_THRESHOLD=64k build/zcdemo"
LD_PRELOAD="$PWD/build/libzcshim.so" ZCSHIM_THRESHOLD=64k build/zcdemo &
pid=$!
wait "$pid"

echo
echo "\$ build/zcshim-stat"
build/zcshim-stat
echo
echo "\$ build/zcshim-stat $pid"
build/zcshim-stat "$pid"

echo
echo "\$ LD_PRELOAD=build/libzcshim.so build/zcsockets"
LD_PRELOAD="$PWD/build/libzcshim.so" build/zcsockets &
pid=$!
wait "$pid"
echo
echo "\$ build/zcshim-stat --by socket $pid"
build/zcshim-stat --by socket "$pid"
