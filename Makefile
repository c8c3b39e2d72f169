# zcshim - see README.md. `make demo` installs, builds and shows; `make test` tests.
PREFIX   ?= /usr/local
DESTDIR  ?=
CC       ?= cc
CFLAGS   ?= -O2 -g
ZMQ_CFLAGS := $(shell pkg-config --cflags libzmq 2>/dev/null)
ZMQ_LIBS   := $(shell pkg-config --libs libzmq 2>/dev/null || echo -lzmq)
CRIT_LIBS  := $(shell pkg-config --libs criterion 2>/dev/null || echo -lcriterion)
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
BASE     := -std=gnu11 $(WARN) -D_GNU_SOURCE -Ishim
B        := build

SHIM_SRC := shim/interpose.c shim/hold.c shim/segment.c shim/config.c \
            shim/clock.c shim/zmqmsg.c shim/warn.c
SHIM_SRC := $(filter $(wildcard shim/*.c),$(SHIM_SRC))
READ_SRC := tools/segread.c shim/config.c
# zcshim-stat: the command, then one file per output format or feature.
STAT_LIB := tools/fmt.c tools/load.c tools/baseline.c tools/outfile.c tools/json.c \
            tools/out_table.c tools/out_json.c tools/out_csv.c tools/out_prom.c \
            tools/watch.c tools/recommend.c tools/compare.c tools/clean.c $(READ_SRC)
STAT_SRC := tools/zcshim-stat.c $(STAT_LIB)
RUN_SRC  := tools/zcshim-run.c $(READ_SRC)
HDRS     := $(wildcard shim/*.h tools/*.h)

PROGS := $(B)/libzcshim.so $(B)/zcshim-stat $(B)/zcshim-run $(B)/zcapp $(B)/zcload $(B)/zcdemo \
         $(B)/test_unit $(B)/test_integration $(B)/test_stat

.PHONY: all deps demo test test-unit test-integration check-clang install uninstall clean

all: $(PROGS)

$(B):
	mkdir -p $@

# The shim links no libzmq: everything is found with dlsym at run time, so a
# process that inherits LD_PRELOAD but never uses ZeroMQ does not load it.
$(B)/libzcshim.so: $(SHIM_SRC) $(HDRS) shim/zcshim.map | $(B)
	$(CC) $(BASE) $(ZMQ_CFLAGS) $(CFLAGS) -fPIC -shared -fvisibility=hidden \
	  -Wl,--version-script=shim/zcshim.map -Wl,-z,defs $(LDFLAGS) \
	  -o $@ $(SHIM_SRC) -ldl -lpthread

$(B)/zcshim-stat: $(STAT_SRC) $(HDRS) | $(B)
	$(CC) $(BASE) $(CFLAGS) $(LDFLAGS) -o $@ $(STAT_SRC) -lm

# zcshim-run looks for the library beside itself, in ../lib, then here.
$(B)/zcshim-run: $(RUN_SRC) $(HDRS) | $(B)
	$(CC) $(BASE) '-DZCS_LIBDIR="$(PREFIX)/lib"' $(CFLAGS) $(LDFLAGS) -o $@ $(RUN_SRC)

$(B)/zcapp: tests/apps/zcapp.c | $(B)
	$(CC) $(BASE) $(ZMQ_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(ZMQ_LIBS) -lpthread

$(B)/zcload: tests/apps/zcload.c | $(B)
	$(CC) $(BASE) $(ZMQ_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(ZMQ_LIBS) -lpthread

$(B)/zcdemo: examples/zcdemo.c | $(B)
	$(CC) $(BASE) $(ZMQ_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(ZMQ_LIBS) -lpthread

UNIT_SRC := tests/test_histo.c tests/test_config.c tests/test_layout.c tests/test_reader.c
$(B)/test_unit: $(UNIT_SRC) $(READ_SRC) $(HDRS) | $(B)
	$(CC) $(BASE) -Itools $(CFLAGS) $(LDFLAGS) -o $@ $(UNIT_SRC) $(READ_SRC) $(CRIT_LIBS)

INTEG_SRC := tests/test_integration.c tests/spawn.c
$(B)/test_integration: $(INTEG_SRC) tests/spawn.h $(READ_SRC) $(HDRS) | $(B)
	$(CC) $(BASE) -Itools $(CFLAGS) $(LDFLAGS) -o $@ $(INTEG_SRC) $(READ_SRC) $(CRIT_LIBS)

# zcshim-stat's formats and commands, run as a user runs them; links the
# tool's own files (less main) for the parser and the --recommend model.
STATT_SRC := tests/test_json.c tests/test_stat_formats.c tests/test_recommend.c \
             tests/test_watch.c tests/test_tools.c tests/segimg.c tests/spawn.c
$(B)/test_stat: $(STATT_SRC) tests/segimg.h tests/spawn.h $(STAT_LIB) $(HDRS) | $(B)
	$(CC) $(BASE) -Itools $(CFLAGS) $(LDFLAGS) -o $@ $(STATT_SRC) $(STAT_LIB) \
	  $(CRIT_LIBS) -lutil -lm

# Debian packages, installed only when missing (apt-get needs root or sudo).
deps:
	@sh tools/install-deps

# The README's first command: dependencies, build, then the bundled example
# under the shim and what zcshim-stat recorded of it.
demo: deps
	$(MAKE) all
	sh examples/demo.sh

test: all check-clang
	./$(B)/test_unit --jobs 2
	./$(B)/test_integration --jobs 2
	./$(B)/test_stat --jobs 2

# The shim must also build warning-free with clang.
check-clang: | $(B)
	@if command -v clang >/dev/null; then \
	  clang $(BASE) $(ZMQ_CFLAGS) -O2 -fPIC -shared -fvisibility=hidden \
	    -Wl,--version-script=shim/zcshim.map -o $(B)/libzcshim-clang.so $(SHIM_SRC) -ldl -lpthread && \
	  clang $(BASE) -O2 -o $(B)/zcshim-stat-clang $(STAT_SRC) -lm && \
	  clang $(BASE) -O2 -o $(B)/zcshim-run-clang $(RUN_SRC) && echo "clang build: clean"; \
	else echo "clang not installed: skipping the clang build"; fi

# After installing into a directory ld.so searches (/usr/local/lib is in
# Debian's /etc/ld.so.conf.d/libc.conf), run ldconfig: then
# LD_PRELOAD=libzcshim.so works without a path. See README "Install".
MAN1 := $(DESTDIR)$(PREFIX)/share/man/man1
MAN7 := $(DESTDIR)$(PREFIX)/share/man/man7
install: $(B)/libzcshim.so $(B)/zcshim-stat $(B)/zcshim-run
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/bin $(MAN1) $(MAN7)
	install -m 0644 $(B)/libzcshim.so $(DESTDIR)$(PREFIX)/lib/libzcshim.so
	install -m 0755 $(B)/zcshim-stat $(DESTDIR)$(PREFIX)/bin/zcshim-stat
	install -m 0755 $(B)/zcshim-run $(DESTDIR)$(PREFIX)/bin/zcshim-run
	install -m 0644 man/zcshim.7 $(MAN7)/zcshim.7
	install -m 0644 man/zcshim-stat.1 $(MAN1)/zcshim-stat.1
	install -m 0644 man/zcshim-run.1 $(MAN1)/zcshim-run.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/lib/libzcshim.so $(DESTDIR)$(PREFIX)/bin/zcshim-stat \
	  $(DESTDIR)$(PREFIX)/bin/zcshim-run $(MAN7)/zcshim.7 $(MAN1)/zcshim-stat.1 \
	  $(MAN1)/zcshim-run.1

clean:
	rm -rf $(B)

-include bench/bench.mk
