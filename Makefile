# zcshim - see README.md. `make demo` installs, builds and shows; `make test` tests.
PREFIX   ?= /usr/local
# where the library goes; the Debian package uses /usr/lib/<multiarch>
LIBDIR   ?= $(PREFIX)/lib
DESTDIR  ?=
CC       ?= cc
CFLAGS   ?= -O2 -g
ZMQ_CFLAGS := $(shell pkg-config --cflags libzmq 2>/dev/null)
ZMQ_LIBS   := $(shell pkg-config --libs libzmq 2>/dev/null || echo -lzmq)
CRIT_LIBS  := $(shell pkg-config --libs criterion 2>/dev/null || echo -lcriterion)
JSON_LIBS  := $(shell pkg-config --libs jansson 2>/dev/null || echo -ljansson)
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
BASE     := -std=gnu11 $(WARN) -D_GNU_SOURCE -Ishim
B        := build

SHIM_SRC := shim/interpose.c shim/recv.c shim/resolve.c shim/hold.c shim/pairs.c shim/sample.c \
            shim/segment.c shim/ledger.c shim/creds.c shim/sockets.c shim/config.c \
            shim/clock.c shim/zmqmsg.c shim/warn.c \
            shim/builtin.c shim/interposed.c shim/reach.c shim/elfdyn.c \
            shim/dlreal.c shim/dlentry.S shim/dlsym.c shim/deepbind.c
SHIM_SRC := $(filter $(wildcard shim/*.c shim/*.S),$(SHIM_SRC))
# tools/: one room per part. reader/ is the segment reader library, shared
# by both commands, the tests and the fuzzer; zcshim-stat/ is main.c (the
# command line), one file per command (watch, recommend, compare, ...) and
# its helpers, and format/ one file per output format. Every .c there is
# built in, so a new command or format is a new file (and a line in main.c).
TOOLS_INC := -Itools/reader -Itools/zcshim-stat
READ_SRC := tools/reader/segread.c tools/reader/reach_text.c shim/config.c
STAT_LIB := $(sort $(filter-out tools/zcshim-stat/main.c,$(wildcard tools/zcshim-stat/*.c)) \
            $(wildcard tools/zcshim-stat/format/*.c)) $(READ_SRC)
STAT_SRC := tools/zcshim-stat/main.c $(STAT_LIB)
RUN_SRC  := tools/zcshim-run/main.c $(READ_SRC)
HDRS     := $(wildcard shim/*.h tools/*/*.h tools/*/*/*.h)

# The apps of the reach tests (tests/test_reach.c, tests/test_bindings.c).
REACH_PROGS := $(B)/zcdlsym $(B)/libzcnext.so $(B)/zcdlopen-rpath $(B)/zcplugin-now.so \
               $(B)/zcbuiltin.so $(B)/zcbuiltin-hidden.so $(B)/zcstatic $(B)/zccppzmq \
               $(B)/zcrodata.so

PROGS := $(B)/libzcshim.so $(B)/zcshim-stat $(B)/zcshim-run $(B)/zcapp $(B)/zcstress \
         $(B)/zcload $(B)/zcplugin.so $(B)/zcdlopen $(B)/zcctor $(B)/zcctorplug.so \
         $(REACH_PROGS) $(B)/libzcearly.so $(B)/zcearly \
         $(B)/zcdemo $(B)/zcsockets $(B)/zcsource $(B)/zcmiddle $(B)/zcsink $(B)/zcrecv \
         $(B)/zcchain $(B)/zcpace $(B)/test_unit $(B)/test_integration $(B)/test_stat

.PHONY: all deps demo test test-asan test-tsan valgrind stress fuzz fuzz-seeds check-clang install uninstall deb clean

all: $(PROGS)

$(B):
	mkdir -p $@

# The shim links no libzmq: everything is found with dlsym at run time, so a
# process that inherits LD_PRELOAD but never uses ZeroMQ does not load it.
# Its SONAME is its file name: nothing links against it, and a shared object
# in a library directory needs one (Debian policy, lintian).
$(B)/libzcshim.so: $(SHIM_SRC) $(HDRS) shim/zcshim.map | $(B)
	$(CC) $(BASE) $(ZMQ_CFLAGS) $(CPPFLAGS) $(CFLAGS) -fPIC -shared -fvisibility=hidden \
	  -Wl,--version-script=shim/zcshim.map -Wl,-z,defs -Wl,-z,nodelete \
	  -Wl,-soname,libzcshim.so $(LDFLAGS) -o $@ $(SHIM_SRC) -ldl -lpthread

$(B)/zcshim-stat: $(STAT_SRC) $(HDRS) | $(B)
	$(CC) $(BASE) $(TOOLS_INC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $(STAT_SRC) $(JSON_LIBS) -lm

# zcshim-run looks for the library beside itself, then in LIBDIR relative to
# itself (../lib/<multiarch> for bin/ in the package, ../lib for make
# install), then in LIBDIR: an unpacked or relocated tree finds its own.
$(B)/zcshim-run: $(RUN_SRC) $(HDRS) | $(B)
	$(CC) $(BASE) $(TOOLS_INC) '-DZCS_LIBDIR="$(LIBDIR)"' '-DZCS_LIBDIR_REL="$(patsubst $(PREFIX)/%,%,$(LIBDIR))"' \
	  $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $(RUN_SRC)

$(B)/zcapp: tests/apps/zcapp.c | $(B)
	$(CC) $(BASE) $(ZMQ_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(ZMQ_LIBS) -lpthread

$(B)/zcstress: tests/apps/zcstress.c | $(B)
	$(CC) $(BASE) $(ZMQ_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(ZMQ_LIBS) -lpthread

$(B)/zcplugin.so: tests/apps/zcplugin.c | $(B)
	$(CC) $(BASE) $(ZMQ_CFLAGS) $(CFLAGS) -fPIC -shared $(LDFLAGS) -o $@ $< $(ZMQ_LIBS)

# not linked against libzmq: it loads it at run time
$(B)/zcdlopen: tests/apps/zcdlopen.c | $(B)
	$(CC) $(BASE) $(ZMQ_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< -ldl

# ---- reach: libzmq through dlsym, RTLD_DEEPBIND, built into a plugin

# calls libzmq only through dlsym pointers
$(B)/zcdlsym: tests/apps/zcdlsym.c | $(B)
	$(CC) $(BASE) $(ZMQ_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< -ldl -lpthread

# a second preload, after the shim, that uses dlsym(RTLD_NEXT)
$(B)/libzcnext.so: tests/apps/zcnext.c | $(B)
	$(CC) $(BASE) $(CFLAGS) -fPIC -shared $(LDFLAGS) -o $@ $< -ldl

# zcdlopen with DT_RUNPATH $$ORIGIN: a bare plugin name is found beside it
$(B)/zcdlopen-rpath: tests/apps/zcdlopen.c | $(B)
	$(CC) $(BASE) $(ZMQ_CFLAGS) $(CFLAGS) $(LDFLAGS) -Wl,--enable-new-dtags \
	  '-Wl,-rpath,$$ORIGIN' -o $@ $< -ldl

# zcplugin bound at load and its GOT read-only after (BIND_NOW, RELRO)
$(B)/zcplugin-now.so: tests/apps/zcplugin.c | $(B)
	$(CC) $(BASE) $(ZMQ_CFLAGS) $(CFLAGS) -fPIC -shared $(LDFLAGS) -Wl,-z,now -Wl,-z,relro \
	  -o $@ $< $(ZMQ_LIBS)

# Debian's libzmq.a (libzmq3-dev) built into zcplugin, as libzmq 4.3.5 is
# into zeromq.js's addon.node: zmq_* exported (zcbuiltin.so) or not
# (zcbuiltin-hidden.so). libzmq.a is PIE code, not PIC: see
# tests/apps/zcbuiltin_glue.c for what that takes.
ZMQ_A      := $(shell pkg-config --variable=libdir libzmq 2>/dev/null)/libzmq.a
ZMQ_A_LIBS := -static-libstdc++ -static-libgcc -Wl,-Bstatic -lnorm -lprotokit -Wl,-Bdynamic \
              -lgssapi_krb5 -lsodium -lpgm -lbsd -lpthread -ldl
$(B)/zcplugin-pic.o: tests/apps/zcplugin.c | $(B)
	$(CC) $(BASE) $(ZMQ_CFLAGS) $(CFLAGS) -fPIC -c -o $@ $<

$(B)/zcbuiltin_glue.o: tests/apps/zcbuiltin_glue.c | $(B)
	$(CC) $(BASE) $(CFLAGS) -fPIC -c -o $@ $<

$(B)/zcbuiltin.so: $(B)/zcplugin-pic.o $(B)/zcbuiltin_glue.o tests/apps/zcbuiltin.map
	$(CXX) $(CFLAGS) -shared $(LDFLAGS) -Wl,--version-script=tests/apps/zcbuiltin.map \
	  -o $@ $(B)/zcplugin-pic.o $(B)/zcbuiltin_glue.o $(ZMQ_A) $(ZMQ_A_LIBS)

$(B)/zcbuiltin-hidden.so: $(B)/zcplugin-pic.o $(B)/zcbuiltin_glue.o tests/apps/zcbuiltin-hidden.map
	$(CXX) $(CFLAGS) -shared $(LDFLAGS) -Wl,--version-script=tests/apps/zcbuiltin-hidden.map \
	  -o $@ $(B)/zcplugin-pic.o $(B)/zcbuiltin_glue.o $(ZMQ_A) $(ZMQ_A_LIBS)

# libzmq.a linked into an executable, nothing exported
$(B)/zcstatic.o: tests/apps/zcstatic.c | $(B)
	$(CC) $(BASE) $(CFLAGS) -c -o $@ $<

$(B)/zcstatic: $(B)/zcstatic.o $(B)/zcplugin-pic.o
	$(CXX) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(ZMQ_A) $(ZMQ_A_LIBS)

# cppzmq (header-only) as a C++ program uses it: tests/test_bindings.c
$(B)/zccppzmq: tests/bindings/pushpull.cpp | $(B)
	$(CXX) -std=c++17 -Wall -Wextra -Werror $(ZMQ_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(ZMQ_LIBS)

$(B)/zcload: tests/apps/zcload.c | $(B)
	$(CC) $(BASE) $(ZMQ_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(ZMQ_LIBS) -lpthread

$(B)/zcctor: tests/apps/zcctor.c | $(B)
	$(CC) $(BASE) $(ZMQ_CFLAGS) $(CFLAGS) -rdynamic $(LDFLAGS) -o $@ $< $(ZMQ_LIBS) -ldl -lpthread

# Data only, and nothing run at load or exit (see the file); not instrumented.
$(B)/zcrodata.so: tests/apps/zcrodata.c | $(B)
	$(CC) $(BASE) -O2 -fPIC -shared -nostartfiles $(LDFLAGS) -o $@ $<

$(B)/zcctorplug.so: tests/apps/zcctorplug.c | $(B)
	$(CC) $(BASE) $(ZMQ_CFLAGS) $(CFLAGS) -fPIC -shared $(LDFLAGS) -o $@ $< $(ZMQ_LIBS)

$(B)/zcchain: tests/apps/zcchain.c | $(B)
	$(CC) $(BASE) $(ZMQ_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(ZMQ_LIBS) -lpthread

$(B)/zcpace: tests/apps/zcpace.c | $(B)
	$(CC) $(BASE) $(ZMQ_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(ZMQ_LIBS)
# zcearly links libzcearly.so, whose constructor calls libzmq before a
# preloaded shim's constructor has run (issue 13); found beside it.
$(B)/libzcearly.so: tests/apps/zcearlylib.c tests/apps/zcearly.h | $(B)
	$(CC) $(BASE) $(ZMQ_CFLAGS) $(CFLAGS) -fPIC -shared $(LDFLAGS) -o $@ $< $(ZMQ_LIBS)

$(B)/zcearly: tests/apps/zcearly.c tests/apps/zcearly.h $(B)/libzcearly.so | $(B)
	$(CC) $(BASE) $(CFLAGS) $(LDFLAGS) -o $@ $< -L$(B) -Wl,--no-as-needed -lzcearly \
	  -Wl,--as-needed '-Wl,-rpath,$$ORIGIN'

$(B)/zcrecv: tests/apps/zcrecv.c | $(B)
	$(CC) $(BASE) $(ZMQ_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(ZMQ_LIBS) -lpthread

$(B)/zcdemo: examples/zcdemo.c | $(B)
	$(CC) $(BASE) $(ZMQ_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(ZMQ_LIBS) -lpthread

$(B)/zcsockets: examples/zcsockets.c | $(B)
	$(CC) $(BASE) $(ZMQ_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(ZMQ_LIBS) -lpthread

# The pipeline example: one program, built under each stage's name, which
# is how --pipeline tells the stages apart (and how each knows its part).
$(B)/zcsource $(B)/zcmiddle $(B)/zcsink: examples/zcpipe.c | $(B)
	$(CC) $(BASE) $(ZMQ_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(ZMQ_LIBS)

UNIT_SRC := tests/test_histo.c tests/test_config.c tests/test_utf8.c tests/test_layout.c tests/test_reader.c \
            tests/segimg.c tests/test_fuzz_replay.c tests/fuzz/target.c
$(B)/test_unit: $(UNIT_SRC) $(READ_SRC) $(HDRS) tests/fuzz/target.h tests/segimg.h | $(B)
	$(CC) $(BASE) $(TOOLS_INC) -Itests $(CFLAGS) $(LDFLAGS) -o $@ $(UNIT_SRC) $(READ_SRC) $(CRIT_LIBS)

INTEG_SRC := tests/test_integration.c tests/test_hotpath.c tests/test_reach.c tests/test_bindings.c \
             tests/test_segments.c tests/test_pipeline.c tests/seghelp.c tests/spawn.c
$(B)/test_integration: $(INTEG_SRC) tests/spawn.h tests/seghelp.h tools/zcshim-stat/pipeline.c \
                       $(READ_SRC) $(HDRS) | $(B)
	$(CC) $(BASE) $(TOOLS_INC) $(CFLAGS) $(LDFLAGS) -o $@ $(INTEG_SRC) tools/zcshim-stat/pipeline.c \
	  $(READ_SRC) $(CRIT_LIBS) -lm

# zcshim-stat's formats and commands, run as a user runs them; links the
# tool's own files (less main) for the parser and the --recommend model.
STATT_SRC := tests/test_stat_formats.c tests/test_output.c tests/test_text.c tests/test_compare.c tests/test_recommend.c \
             tests/test_pipeline_model.c \
             tests/test_watch.c tests/test_tools.c tests/test_sockets.c tests/segimg.c \
             tests/spawn.c
$(B)/test_stat: $(STATT_SRC) tests/segimg.h tests/spawn.h $(STAT_LIB) $(HDRS) | $(B)
	$(CC) $(BASE) $(TOOLS_INC) $(CFLAGS) $(LDFLAGS) -o $@ $(STATT_SRC) $(STAT_LIB) \
	  $(CRIT_LIBS) $(JSON_LIBS) -lutil -lm

# Debian packages, installed only when missing (apt-get needs root or sudo).
deps:
	@sh tools/install-deps

# The README's first command: dependencies, build, then the bundled example
# under the shim and what zcshim-stat recorded of it.
demo: deps
	$(MAKE) all
	sh examples/demo.sh

# Every suite, then one closing line adding them up ("N passed, M failed").
# check-links: every relative link and image in README.md, docs/ and man/.
# test-deb: make deb, lintian, and the unpacked package run on build/zcdemo.
# The suite "alone" runs by itself: its test prunes other tests' segments.
test: all check-clang
	@sh tests/run-suites "./$(B)/test_unit --jobs 2" \
	  "./$(B)/test_integration --jobs 2 --filter '!(alone)/*'" \
	  "./$(B)/test_integration --jobs 1 --filter 'alone/*'" \
	  "./$(B)/test_stat --jobs 2" "python3 tests/check-links --self-test" "sh tests/test-deb" \
	  "$(MAKE) --no-print-directory test-asan" "$(MAKE) --no-print-directory test-tsan"

# ---- sanitizers and valgrind (issue 5: the shim must never harm its host)

TEST_PROGS = $(B)/libzcshim.so $(B)/zcshim-stat $(B)/zcshim-run $(B)/zcapp $(B)/zcstress \
             $(B)/zcload $(B)/zcplugin.so $(B)/zcdlopen $(B)/zcctor $(B)/zcctorplug.so \
             $(REACH_PROGS) $(B)/libzcearly.so $(B)/zcearly $(B)/zcdemo $(B)/zcsockets \
             $(B)/zcrecv $(B)/zcsource $(B)/zcmiddle $(B)/zcsink \
             $(B)/zcchain $(B)/zcpace $(B)/zcbench $(B)/test_unit $(B)/test_integration $(B)/test_stat
ASAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
LIBASAN   = $(shell $(CC) -print-file-name=libasan.so)
LIBTSAN   = $(shell $(CC) -print-file-name=libtsan.so)

# Everything, the apps and libzmq's callers included, under ASan+UBSan. The
# runtime is preloaded before the shim so it comes first, as ASan requires.
test-asan:
	$(MAKE) B=build-asan CFLAGS="-O1 -g -fno-omit-frame-pointer $(ASAN)" \
	  LDFLAGS="$(ASAN)" $(subst $(B)/,build-asan/,$(TEST_PROGS))
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp ZCSHIM_BUILD=$(CURDIR)/build-asan \
	  ZCSHIM_TEST_PRELOAD_FIRST=$(LIBASAN) ./build-asan/test_unit --jobs 2
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp ZCSHIM_BUILD=$(CURDIR)/build-asan \
	  ZCSHIM_TEST_PRELOAD_FIRST=$(LIBASAN) ./build-asan/test_integration --jobs 2 --filter '!(alone)/*'
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp ZCSHIM_BUILD=$(CURDIR)/build-asan \
	  ZCSHIM_TEST_PRELOAD_FIRST=$(LIBASAN) ./build-asan/test_integration --jobs 1 --filter 'alone/*'
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp ZCSHIM_BUILD=$(CURDIR)/build-asan \
	  ZCSHIM_TEST_PRELOAD_FIRST=$(LIBASAN) ./build-asan/test_stat --jobs 2

# The shim under ThreadSanitizer, inside the uninstrumented thread stress
# (libzmq is not instrumented, so only the shim's own memory is watched).
test-tsan: all
	$(MAKE) B=build-tsan CFLAGS="-O1 -g -fsanitize=thread" LDFLAGS="-fsanitize=thread" \
	  build-tsan/libzcshim.so
	TSAN_OPTIONS="halt_on_error=1 exitcode=66 suppressions=$(CURDIR)/tests/tsan.supp" \
	  ZCSHIM_TEST_SHIM=$(CURDIR)/build-tsan/libzcshim.so ZCSHIM_TEST_PRELOAD_FIRST=$(LIBTSAN) \
	  ./$(B)/test_integration --jobs 1 --filter 'load/*'

# The integration tests' apps under valgrind's memcheck: 0 errors, 0 leaks.
valgrind: all
	ZCSHIM_STRESS_COUNT=300 ZCSHIM_TEST_TIMEOUT=300 \
	ZCSHIM_TEST_WRAPPER="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" \
	  ./$(B)/test_integration --jobs 2 --filter '!(alone)/*'
	ZCSHIM_STRESS_COUNT=300 ZCSHIM_TEST_TIMEOUT=300 \
	ZCSHIM_TEST_WRAPPER="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" \
	  ./$(B)/test_integration --jobs 1 --filter 'alone/*'

# The segment reader under libFuzzer (clang), ASan and UBSan: 1,000,000 runs
# from the seeds in tests/fuzz/seeds. Anything it finds lands in build-fuzz/;
# copy it to tests/fuzz/regressions/, where make test replays it for ever.
FUZZ_RUNS ?= 1000000
build-fuzz/fuzz_segread: tests/fuzz/fuzz_segread.c tests/fuzz/target.c $(READ_SRC) $(HDRS)
	mkdir -p build-fuzz/corpus
	clang $(BASE) $(TOOLS_INC) -Itests -O1 -g -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=all -o $@ tests/fuzz/fuzz_segread.c tests/fuzz/target.c $(READ_SRC)

# The seeds are headers of the current layout, the dictionary its bounds:
# regenerate both when it changes.
fuzz-seeds: | $(B)
	$(CC) $(BASE) $(CFLAGS) -o $(B)/mkseeds tests/fuzz/mkseeds.c
	rm -f tests/fuzz/seeds/*
	./$(B)/mkseeds tests/fuzz/seeds tests/fuzz/segread.dict

fuzz: build-fuzz/fuzz_segread
	./build-fuzz/fuzz_segread -runs=$(FUZZ_RUNS) -max_len=1024 -print_final_stats=1 \
	  -dict=tests/fuzz/segread.dict -artifact_prefix=build-fuzz/ build-fuzz/corpus tests/fuzz/seeds

# The load tests at full size: 8 threads x 1,000,000 messages each.
stress: all
	ZCSHIM_STRESS_COUNT=1000000 ZCSHIM_TEST_TIMEOUT=1500 \
	  ./$(B)/test_integration --jobs 1 --filter 'load/*'

# The shim must also build warning-free with clang.
check-clang: | $(B)
	@if command -v clang >/dev/null; then \
	  clang $(BASE) $(ZMQ_CFLAGS) -O2 -fPIC -shared -fvisibility=hidden \
	    -Wl,--version-script=shim/zcshim.map -o $(B)/libzcshim-clang.so $(SHIM_SRC) -ldl -lpthread && \
	  clang $(BASE) $(TOOLS_INC) -O2 -o $(B)/zcshim-stat-clang $(STAT_SRC) $(JSON_LIBS) -lm && \
	  clang $(BASE) $(TOOLS_INC) -O2 -o $(B)/zcshim-run-clang $(RUN_SRC) && echo "clang build: clean"; \
	else echo "clang not installed: skipping the clang build"; fi

# After installing into a directory ld.so searches (/usr/local/lib is in
# Debian's /etc/ld.so.conf.d/libc.conf), run ldconfig: then
# LD_PRELOAD=libzcshim.so works without a path. See docs/install.md.
MAN1 := $(DESTDIR)$(PREFIX)/share/man/man1
MAN7 := $(DESTDIR)$(PREFIX)/share/man/man7
install: $(B)/libzcshim.so $(B)/zcshim-stat $(B)/zcshim-run
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PREFIX)/bin $(MAN1) $(MAN7)
	install -m 0644 $(B)/libzcshim.so $(DESTDIR)$(LIBDIR)/libzcshim.so
	install -m 0755 $(B)/zcshim-stat $(DESTDIR)$(PREFIX)/bin/zcshim-stat
	install -m 0755 $(B)/zcshim-run $(DESTDIR)$(PREFIX)/bin/zcshim-run
	install -m 0644 man/zcshim.7 $(MAN7)/zcshim.7
	install -m 0644 man/zcshim-stat.1 $(MAN1)/zcshim-stat.1
	install -m 0644 man/zcshim-run.1 $(MAN1)/zcshim-run.1

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libzcshim.so $(DESTDIR)$(PREFIX)/bin/zcshim-stat \
	  $(DESTDIR)$(PREFIX)/bin/zcshim-run $(MAN7)/zcshim.7 $(MAN1)/zcshim-stat.1 \
	  $(MAN1)/zcshim-run.1

# The Debian package (debian/), built from a copy of this tree in build/deb/
# so that dpkg-buildpackage's clean and its output (written beside the
# source) stay out of the checkout: build/deb/zcshim_<version>_<arch>.deb.
# Needs debhelper and dpkg-dev (tools/install-deps).
DEB_DIR := build/deb
deb:
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/src/zcshim
	tar -cf - --exclude=./.git --exclude=./build --exclude=./build-asan \
	  --exclude=./build-tsan --exclude=./build-fuzz . | tar -xf - -C $(DEB_DIR)/src/zcshim
	cd $(DEB_DIR)/src/zcshim && dpkg-buildpackage -b -us -uc
	mv $(DEB_DIR)/src/*.deb $(DEB_DIR)/
	rm -rf $(DEB_DIR)/src

clean:
	rm -rf $(B) build-asan build-tsan build-fuzz

include bench/bench.mk
