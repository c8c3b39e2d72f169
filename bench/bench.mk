# bench/bench.mk - benchmark targets, included by the top Makefile.
#
# `make bench` reproduces bench/results/ (12-14 minutes on 2 cores);
# `make bench-quick` is a smaller sweep (about 1 minute, into bench/results/quick/). Neither is part
# of `make test`: timings are not tests. See README.md, "Results".

BENCH_PROGS := $(B)/zcbench $(B)/zcoverhead $(B)/zcsocklookup $(B)/libzcdelay.so $(B)/zcinstr

.PHONY: bench bench-quick bench-plot

# make all builds the benchmarks too (the tests run zcbench once)
all: $(BENCH_PROGS)

$(B)/zcbench: bench/zcbench.c bench/libzmq_own.h | $(B)
	$(CC) $(BASE) $(ZMQ_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(ZMQ_LIBS) -lpthread -ldl -lm

$(B)/zcoverhead: bench/zcoverhead.c bench/libzmq_own.h | $(B)
	$(CC) $(BASE) $(ZMQ_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(ZMQ_LIBS) -lpthread -ldl

# one operation N times, for bench/instructions (callgrind)
$(B)/zcinstr: bench/zcinstr.c | $(B)
	$(CC) $(BASE) $(ZMQ_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(ZMQ_LIBS)

# the shim's socket lookup alone, linked from its own source
$(B)/zcsocklookup: bench/zcsocklookup.c shim/sockets.c shim/sockets.h | $(B)
	$(CC) $(BASE) $(CFLAGS) $(LDFLAGS) -o $@ bench/zcsocklookup.c shim/sockets.c -lpthread

# a forwarder that only waits: what N ns per call cost zcoverhead's ratios
$(B)/libzcdelay.so: bench/zcdelay.c | $(B)
	$(CC) $(BASE) $(ZMQ_CFLAGS) $(CFLAGS) -fPIC -shared $(LDFLAGS) -o $@ $< -ldl

bench: $(BENCH_PROGS) $(B)/libzcshim.so $(B)/zcshim-stat
	sh bench/run

bench-quick: $(BENCH_PROGS) $(B)/libzcshim.so $(B)/zcshim-stat
	sh bench/run --quick

# Redraw the plots and tables from bench/results/*.csv without measuring.
bench-plot:
	sh bench/run --plot-only
