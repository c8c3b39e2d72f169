/*
 * zcshim-stat/main.c - zcshim-stat: list the processes that ran under
 * libzcshim.so and show what it recorded of each: as a table, JSON, CSV or
 * Prometheus text, live (--watch), as a threshold suggestion (--recommend),
 * or two saved runs side by side (--compare). This file is the command line
 * only: it parses options, checks they fit together, and calls the file that
 * does the work (a command in this directory, a format in format/; see
 * stat.h).
 *
 * Exit status: 0 done; 1 no such segment, or it could not be read or is not
 * valid, or output failed; 2 bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "stat.h"

#define VERSION "0.2"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: zcshim-stat [OPTION]... [PID|NAME|FILE]\n"
		"  or:  zcshim-stat --all [--json|--csv|--prometheus] [--output FILE]\n"
		"  or:  zcshim-stat --watch [-i SECONDS] PID|NAME|FILE\n"
		"  or:  zcshim-stat --recommend PID|NAME|FILE\n"
		"  or:  zcshim-stat --compare A.json B.json\n"
		"  or:  zcshim-stat --pipeline [--watch] [--json|--prometheus] [FILE|DIR|PID|NAME]...\n"
		"  or:  zcshim-stat --reset PID|NAME   |   zcshim-stat --clean\n"
		"Show what libzcshim.so recorded in the ZeroMQ processes it was preloaded into.\n"
		"\n"
		"With no argument, list the segments in /dev/shm: one line per process.\n"
		"With PID, NAME (a program name) or FILE (a path to a segment), print that\n"
		"process's histograms per operation, path and size class; this works while\n"
		"the process runs and after it has exited.\n"
		"\n"
		"Formats:\n"
		"  -j, --json          one JSON document\n"
		"  -c, --csv           a header line, then one row per op x path x size class\n"
		"  -p, --prometheus    Prometheus text exposition format\n"
		"  -a, --all           every segment in one document, labelled by pid and exe\n"
		"  -b, --by KEY        rows by size (default: summed over sockets), by socket\n"
		"                      (summed over sizes) or by both\n"
		"  -o, --output FILE   write FILE atomically (temporary file + rename); FILE is\n"
		"                      a regular file or new: devices, FIFOs, links are refused\n"
		"      --raw           ignore the --reset baseline: counts since the start\n"
		"Commands:\n"
		"  -w, --watch         live rates per size class, refreshed every interval\n"
		"  -i, --interval S    --watch interval in seconds (default 1, 0.1 to 3600)\n"
		"  -r, --recommend     compare zero-copy and copy costs, suggest ZCSHIM_THRESHOLD\n"
		"      --compare       two --json dumps side by side, with B/A ratios\n"
		"      --reset         count from zero from now on (the app is not touched)\n"
		"      --clean         remove the segments of processes that are gone\n"
		"      --pipeline      join processes by endpoint: messages in queues between\n"
		"                      them, time blocked/waiting/working, the bottleneck\n"
		"      --address ADDR  --pipeline: this host's address in endpoint names\n"
		"Other:\n"
		"      --dir DIR       look for segments in DIR instead of /dev/shm\n"
		"  -h, --help          show this help and exit\n"
		"  -V, --version       show the version and exit\n"
		"\n"
		"Exit status: 0 if OK, 1 if the segment is missing, unreadable or invalid,\n"
		"2 on a usage error. See zcshim-stat(1).\n");
}

static int usage_error(const char *fmt, const char *arg)
{
	char msg[1024];
	snprintf(msg, sizeof msg, fmt, arg);
	stat_err("%s", msg); /* arg is the user's: escaped there */
	fprintf(stderr, "Try 'zcshim-stat --help' for more information.\n");
	return 2;
}

enum cmd { CMD_SHOW, CMD_WATCH, CMD_RECOMMEND, CMD_COMPARE, CMD_RESET, CMD_CLEAN };
enum fmt { FMT_TABLE, FMT_JSON, FMT_CSV, FMT_PROM };

static int set_once(int *slot, int value, int none, const char *what)
{
	if (*slot != none && *slot != value) {
		usage_error("%s: choose one", what);
		return -1;
	}
	*slot = value;
	return 0;
}

static int show(enum fmt fmt, int all, int raw, const char *key, const char *output,
		unsigned by)
{
	struct zcs_snapshot **snaps = NULL;
	size_t n = 0;
	uint64_t since = 0, *since_each = &since;
	if (all) {
		if (load_all(&snaps, &since_each, &n, raw) != 0)
			return 1;
	} else {
		snaps = calloc(1, sizeof *snaps);
		if (!snaps || !(snaps[0] = zcs_snapshot_new())) {
			free(snaps);
			stat_err("out of memory");
			return 1;
		}
		n = 1;
		if (load_snapshot(key, snaps[0], raw, &since) != 0) {
			free_all(snaps, n);
			return 1;
		}
	}
	char tmp[PATH_MAX + 32];
	FILE *f = output ? outfile_open(output, tmp, sizeof tmp) : stdout;
	if (!f) {
		free_all(snaps, n);
		if (all)
			free(since_each);
		return 1;
	}
	int rc;
	switch (fmt) {
	case FMT_JSON: rc = out_json(f, snaps, n, all, since_each, by); break;
	case FMT_CSV: rc = out_csv(f, snaps, n, by); break;
	case FMT_PROM: rc = out_prom(f, snaps, n, by); break;
	default: rc = out_table(f, snaps, n, since_each, by); break;
	}
	if (all && !n && fmt == FMT_TABLE)
		fprintf(f, "(no zcshim segments in %s)\n", zcs_dir());
	free_all(snaps, n);
	if (all)
		free(since_each);
	if (output)
		return rc ? (outfile_abort(f, tmp), rc) : outfile_commit(f, tmp, output);
	return rc;
}

/* Every command's output, checked once it is all written: a full disk or
 * a closed pipe is an error, not exit 0. */
static int finish(int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		stat_err("writing output: %s", strerror(errno));
		return 1;
	}
	return rc;
}

int main(int argc, char **argv)
{
	enum { OPT_COMPARE = 256, OPT_RESET, OPT_CLEAN, OPT_RAW, OPT_DIR, OPT_PIPELINE, OPT_ADDRESS };
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "csv", no_argument, NULL, 'c' },
		{ "prometheus", no_argument, NULL, 'p' },
		{ "all", no_argument, NULL, 'a' },
		{ "by", required_argument, NULL, 'b' },
		{ "output", required_argument, NULL, 'o' },
		{ "watch", no_argument, NULL, 'w' },
		{ "interval", required_argument, NULL, 'i' },
		{ "recommend", no_argument, NULL, 'r' },
		{ "compare", no_argument, NULL, OPT_COMPARE },
		{ "reset", no_argument, NULL, OPT_RESET },
		{ "clean", no_argument, NULL, OPT_CLEAN },
		{ "raw", no_argument, NULL, OPT_RAW },
		{ "dir", required_argument, NULL, OPT_DIR },
		{ "pipeline", no_argument, NULL, OPT_PIPELINE },
		{ "address", required_argument, NULL, OPT_ADDRESS },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int cmd = -1, fmt = -1, all = 0, raw = 0, pipeline = 0, c;
	const char *output = NULL, *interval_arg = NULL, *by_arg = NULL, *address = NULL;
	unsigned by = ZCS_BY_SIZE;
	double interval_s = 1.0;
	argv[0] = (char *)"zcshim-stat"; /* getopt's messages name the program, not its path */
	while ((c = getopt_long(argc, argv, "jcpab:o:wi:rhV", opts, NULL)) != -1) {
		int bad = 0;
		switch (c) {
		case 'j': bad = set_once(&fmt, FMT_JSON, -1, "--json, --csv, --prometheus"); break;
		case 'c': bad = set_once(&fmt, FMT_CSV, -1, "--json, --csv, --prometheus"); break;
		case 'p': bad = set_once(&fmt, FMT_PROM, -1, "--json, --csv, --prometheus"); break;
		case 'a': all = 1; break;
		case 'b': by_arg = optarg; break;
		case 'o': output = optarg; break;
		case 'w': bad = set_once(&cmd, CMD_WATCH, -1, "one command at a time"); break;
		case 'i': interval_arg = optarg; break;
		case 'r': bad = set_once(&cmd, CMD_RECOMMEND, -1, "one command at a time"); break;
		case OPT_COMPARE: bad = set_once(&cmd, CMD_COMPARE, -1, "one command at a time"); break;
		case OPT_RESET: bad = set_once(&cmd, CMD_RESET, -1, "one command at a time"); break;
		case OPT_CLEAN: bad = set_once(&cmd, CMD_CLEAN, -1, "one command at a time"); break;
		case OPT_RAW: raw = 1; break;
		case OPT_DIR: zcs_set_dir(optarg); break;
		case OPT_PIPELINE: pipeline = 1; break;
		case OPT_ADDRESS: address = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V':
			printf("zcshim-stat " VERSION " (segment layout %u)\n", ZCS_LAYOUT_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try 'zcshim-stat --help' for more information.\n");
			return 2;
		}
		if (bad)
			return 2;
	}
	if (cmd < 0)
		cmd = CMD_SHOW;
	if (fmt < 0)
		fmt = FMT_TABLE;
	int nargs = argc - optind;
	const char *key = nargs ? argv[optind] : NULL;

	if (interval_arg) {
		char *end;
		errno = 0;
		interval_s = strtod(interval_arg, &end);
		if (cmd != CMD_WATCH)
			return usage_error("%s", "-i/--interval goes with --watch");
		if (errno || end == interval_arg || *end || !(interval_s >= 0.1) ||
		    interval_s > 3600)
			return usage_error("-i '%s': an interval is 0.1 to 3600 seconds",
					   interval_arg);
	}
	if (by_arg) {
		if (!strcmp(by_arg, "socket"))
			by = ZCS_BY_SOCKET;
		else if (!strcmp(by_arg, "both"))
			by = ZCS_BY_BOTH;
		else if (strcmp(by_arg, "size") != 0)
			return usage_error("--by '%s': size, socket or both", by_arg);
		if (cmd != CMD_SHOW)
			return usage_error("%s", "--by goes with a dump, not with --watch, "
						 "--recommend, --compare, --reset or --clean");
	}
	if (address && !pipeline)
		return usage_error("%s", "--address goes with --pipeline");
	if (pipeline) {
		if ((cmd != CMD_SHOW && cmd != CMD_WATCH) || fmt == FMT_CSV || all || by_arg || raw)
			return usage_error("%s", "--pipeline goes with --watch, --json, --prometheus, "
						 "--output, --dir and --address only");
		if (cmd == CMD_WATCH && (output || fmt == FMT_PROM))
			return usage_error("%s", "--pipeline --watch writes a table or JSON to the "
						 "terminal: no --output, no --prometheus");
		return finish(pipeline_run(fmt == FMT_JSON ? 1 : fmt == FMT_PROM ? 2 : 0,
					   (const char *const *)argv + optind, (size_t)nargs, output,
					   cmd == CMD_WATCH, interval_s, address));
	}
	if (cmd != CMD_SHOW && (fmt != FMT_TABLE || all || output))
		return usage_error("%s", "--json, --csv, --prometheus, --all and --output go "
					 "with a dump, not with --watch, --recommend, --compare, "
					 "--reset or --clean");
	switch (cmd) {
	case CMD_COMPARE:
		if (nargs != 2)
			return usage_error("%s", "--compare takes two files: A.json B.json");
		return finish(compare_run(stdout, argv[optind], argv[optind + 1]));
	case CMD_CLEAN:
		if (nargs)
			return usage_error("--clean takes no argument, not '%s'", key);
		return finish(clean_run(stdout));
	case CMD_WATCH:
	case CMD_RECOMMEND:
	case CMD_RESET:
		if (nargs != 1)
			return usage_error("%s", nargs ? "one PID, NAME or FILE at a time"
							: "which process? give a PID, NAME or FILE");
		if (cmd == CMD_WATCH)
			return finish(watch_run(key, interval_s));
		if (cmd == CMD_RESET)
			return finish(reset_run(key));
		return finish(recommend_run(stdout, key));
	default:
		break;
	}
	if (nargs > 1)
		return usage_error("one PID, NAME or FILE at a time, not '%s'", argv[optind + 1]);
	if (all && nargs)
		return usage_error("--all reads every segment; drop '%s'", key);
	if (!all && !nargs) {
		if (fmt != FMT_TABLE || output)
			return usage_error("%s", "--json, --csv, --prometheus and --output need a "
						 "PID, NAME or FILE, or --all");
		return finish(out_list(stdout));
	}
	return finish(show(fmt, all, raw, key, output, by));
}
