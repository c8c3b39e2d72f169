/*
 * compare.c - --compare A.json B.json: two saved runs side by side, e.g.
 * the app in profile mode (A) and in convert mode (B), per op and size
 * class, with B/A ratios of the mean and the p99, so a user sees what
 * converting did to their app's sends.
 *
 * Rows merge the paths of an op and size class (profile's zerocopy and
 * convert's converted are the same sends, treated two ways); the path
 * column says which. Percentiles come from the merged buckets through
 * segread's quantile function, so they match what zcshim-stat prints.
 *
 * The documents are read through jansson, and checked field by field: a
 * file that is not one of ours is refused with one line saying why, never
 * half-read. A dump is mostly its "series" array; held whole as a jansson
 * tree it would take some 20 times the file (a bucket [256,3] is 8 bytes of
 * text and three values of 24 to 80 bytes each). So the top-level object is
 * walked here, member by member, and each value, and each element of
 * "series", is decoded by jansson on its own (JSON_DISABLE_EOF_CHECK says
 * where it ended), added to its row and freed: memory is the file plus one
 * series, time is linear. Only the punctuation of those two levels, { : , }
 * [ ], is read here; every key, string, number and nested value is
 * jansson's. Everything jansson allocates is counted, and a single value
 * needing more than JSON_HEAP_MAX is refused, so no file, however built,
 * takes more memory than that beyond its own size. Duplicate keys are
 * refused (JSON_REJECT_DUPLICATES, and here at the top level), nesting
 * deeper than jansson's 2048 levels too.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "stat.h"

#define MAX_JSON_BYTES (64u << 20)
#define JSON_HEAP_MAX  (32u << 20) /* live bytes jansson may hold at once */

struct agg {
	unsigned paths;      /* bit per enum zcs_path seen */
	struct zcs_cell cell;/* count, bytes, time_ns_sum, buckets merged */
};

struct side {
	const char *file;
	json_t *doc;         /* the top-level members, "series" left out */
	size_t nseries;
	struct agg agg[ZCS_NOPS][ZCS_NSIZES + 1]; /* [ZCS_NSIZES]: overflow series */
};

/* ---- jansson's memory, counted: each block carries its size ---- */

static size_t heap_used;
static int heap_refused;

static void *heap_alloc(size_t bytes)
{
	if (bytes > JSON_HEAP_MAX - heap_used) {
		heap_refused = 1;
		return NULL;
	}
	max_align_t *p = malloc(sizeof(max_align_t) + bytes);
	if (!p)
		return NULL;
	memcpy(p, &bytes, sizeof bytes);
	heap_used += bytes;
	return p + 1;
}

static void heap_free(void *ptr)
{
	if (!ptr)
		return;
	max_align_t *p = (max_align_t *)ptr - 1;
	size_t bytes;
	memcpy(&bytes, p, sizeof bytes);
	heap_used -= bytes;
	free(p);
}

static int read_file(const char *path, char **text, size_t *len)
{
	/* only a regular file, and no blocking on a FIFO to find out: a
	 * device or a pipe could be read for ever */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		stat_err("%s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		stat_err("%s: not a regular file", path);
		close(fd);
		return -1;
	}
	FILE *f = fdopen(fd, "rb");
	if (!f) {
		stat_err("%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	size_t cap = 1 << 16, used = 0;
	char *buf = malloc(cap);
	while (buf) {
		size_t n = fread(buf + used, 1, cap - used, f);
		used += n;
		if (used < cap)
			break;
		if (cap >= MAX_JSON_BYTES) {
			free(buf);
			fclose(f);
			stat_err("%s: larger than %u MiB: not one of our documents", path,
				 MAX_JSON_BYTES >> 20);
			return -1;
		}
		char *grown = realloc(buf, cap * 2);
		if (!grown) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = grown;
		cap *= 2;
	}
	const char *why = !buf ? "out of memory" : ferror(f) ? "read error" : NULL;
	fclose(f);
	if (why) {
		free(buf);
		stat_err("%s: %s", path, why);
		return -1;
	}
	*text = buf;
	*len = used;
	return 0;
}

/* ---- the walk over the top two levels ---- */

struct walk {
	const char *file, *text;
	size_t len, pos;
};

static void skip_space(struct walk *w)
{
	while (w->pos < w->len && (w->text[w->pos] == ' ' || w->text[w->pos] == '\t' ||
				   w->text[w->pos] == '\n' || w->text[w->pos] == '\r'))
		w->pos++;
}

/* Is the next character after white space c? Then step over it. */
static int take(struct walk *w, char c)
{
	skip_space(w);
	if (w->pos < w->len && w->text[w->pos] == c) {
		w->pos++;
		return 1;
	}
	return 0;
}

static int syntax(const struct walk *w, const char *want)
{
	stat_err("%s: JSON: %s expected at byte %zu", w->file, want, w->pos);
	return -1;
}

static int too_big(const struct walk *w)
{
	stat_err("%s: JSON: more than %u MiB of memory needed by byte %zu: not one of our "
		 "documents", w->file, JSON_HEAP_MAX >> 20, w->pos);
	return -1;
}

/* The JSON value at w->pos, decoded by jansson; NULL (said) if invalid. */
static json_t *value(struct walk *w)
{
	json_error_t e;
	skip_space(w);
	heap_refused = 0;
	json_t *v = json_loadb(w->text + w->pos, w->len - w->pos,
			       JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES, &e);
	if (!v && heap_refused)
		too_big(w);
	else if (!v)
		stat_err("%s: JSON: %s at byte %zu", w->file, e.text, w->pos + (size_t)e.position);
	else
		w->pos += (size_t)e.position;
	return v;
}

static int get_u64(const json_t *o, const char *key, uint64_t *out)
{
	const json_t *v = json_object_get(o, key);
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return 0;
	*out = (uint64_t)json_integer_value(v);
	return 1;
}

static const char *get_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int index_of(const char *name, const char *(*names)(unsigned), unsigned n)
{
	for (unsigned i = 0; name && i < n; i++)
		if (strcmp(names(i), name) == 0)
			return (int)i;
	return -1;
}

/* Check one series object and add it to its row. */
static int add_series(struct side *sd, const json_t *x, size_t i)
{
	int op = index_of(get_str(x, "op"), zcs_op_name, ZCS_NOPS);
	int path = index_of(get_str(x, "path"), zcs_path_name, ZCS_NPATHS + 1);
	uint64_t k, count, bytes, time_ns_sum;
	const json_t *b = json_object_get(x, "buckets");
	/* an op's overflow series ("any" path) keeps no size: a row of its own */
	if (path == ZCS_NPATHS && json_is_null(json_object_get(x, "size_class")))
		k = ZCS_NSIZES;
	else if (path == ZCS_NPATHS || !get_u64(x, "size_class", &k) || k >= ZCS_NSIZES)
		path = -1;
	if (op < 0 || path < 0 ||
	    !get_u64(x, "count", &count) || !get_u64(x, "bytes", &bytes) ||
	    !get_u64(x, "time_ns_sum", &time_ns_sum) || !json_is_array(b)) {
		stat_err("%s: series %zu: missing or bad op, path, size_class, count, bytes, "
			 "time_ns_sum or buckets",
			 sd->file, i);
		return -1;
	}
	struct agg *a = &sd->agg[op][k];
	a->paths |= 1u << path;
	a->cell.count += count;
	a->cell.bytes += bytes;
	a->cell.time_ns_sum += time_ns_sum;
	for (size_t j = 0; j < json_array_size(b); j++) {
		const json_t *pair = json_array_get(b, j), *up = json_array_get(pair, 0),
			     *n = json_array_get(pair, 1);
		int ok = json_array_size(pair) == 2 && json_is_integer(n) &&
			 json_integer_value(n) >= 0 &&
			 (json_is_null(up) || (json_is_integer(up) && json_integer_value(up) >= 0));
		uint64_t upper = ok && json_is_integer(up) ? (uint64_t)json_integer_value(up)
							   : UINT64_MAX;
		if (!ok || zcs_cell_add_bucket(&a->cell, upper, (uint64_t)json_integer_value(n)) != 0) {
			stat_err("%s: series %zu: bucket %zu is not [upper_ns, count] at a "
				 "bucket bound",
				 sd->file, i, j);
			return -1;
		}
	}
	return 0;
}

/* What the members read so far say about the document; before the series
 * (our documents put them first) and again at the end. */
static int check_header(const struct side *sd, int at_end)
{
	const json_t *version = json_object_get(sd->doc, "version");
	if (at_end && (!json_is_integer(version) || !json_is_string(json_object_get(sd->doc, "exe")))) {
		stat_err("%s: not a zcshim-stat --json document", sd->file);
		return -1;
	}
	/* versions 1 and 2 wrote the same series (1: by size): still comparable */
	if (version && (!json_is_integer(version) || json_integer_value(version) < 1 ||
			json_integer_value(version) > ZCS_LAYOUT_VERSION)) {
		if (json_is_integer(version))
			stat_err("%s: layout version %" JSON_INTEGER_FORMAT ", this zcshim-stat "
				 "reads versions 1 to %u", sd->file, json_integer_value(version),
				 ZCS_LAYOUT_VERSION);
		else
			stat_err("%s: not a zcshim-stat --json document", sd->file);
		return -1;
	}
	const char *by = get_str(sd->doc, "by");
	if (by && !strcmp(by, "socket")) {
		stat_err("%s: a --by socket dump has no size classes to compare; dump with "
			 "--by size or --by both", sd->file);
		return -1;
	}
	return 0;
}

/* "series":[ ... ]: each element decoded, checked, added and freed. */
static int walk_series(struct side *sd, struct walk *w)
{
	if (take(w, ']'))
		return 0;
	do {
		json_t *x = value(w);
		if (!x)
			return -1;
		int rc = add_series(sd, x, sd->nseries++);
		json_decref(x);
		if (rc != 0)
			return -1;
	} while (take(w, ','));
	return take(w, ']') ? 0 : syntax(w, "',' or ']'");
}

static int walk_doc(struct side *sd, struct walk *w)
{
	int series_seen = 0;
	if (!take(w, '{')) {
		/* not an object: jansson says whether it is JSON at all */
		json_t *v = value(w);
		if (!v)
			return -1;
		json_decref(v);
		stat_err("%s: not a zcshim-stat --json document", sd->file);
		return -1;
	}
	if (!take(w, '}')) {
		do {
			size_t at = (skip_space(w), w->pos);
			json_t *k = value(w);
			if (!k)
				return -1;
			const char *key = json_string_value(k);
			int rc = 0;
			if (!key) {
				w->pos = at;
				rc = syntax(w, "an object key (a string)");
			} else if (!take(w, ':')) {
				rc = syntax(w, "':'");
			} else if (!strcmp(key, "processes")) {
				stat_err("%s: an --all document; --compare takes one process per "
					 "file (zcshim-stat --json PID)", sd->file);
				rc = -1;
			} else if (json_object_get(sd->doc, key) ||
				   (series_seen && !strcmp(key, "series"))) {
				w->pos = at;
				stat_err("%s: JSON: duplicate object key at byte %zu", sd->file, at);
				rc = -1;
			} else if (!strcmp(key, "series") && (skip_space(w), w->pos < w->len) &&
				   w->text[w->pos] == '[') {
				w->pos++;
				series_seen = 1;
				rc = check_header(sd, 0) != 0 ? -1 : walk_series(sd, w);
			} else {
				json_t *v = value(w);
				rc = !v ? -1 : json_object_set_new(sd->doc, key, v) != 0 ? too_big(w) : 0;
			}
			json_decref(k);
			if (rc != 0)
				return -1;
		} while (take(w, ','));
		if (!take(w, '}'))
			return syntax(w, "',' or '}'");
	}
	skip_space(w);
	if (w->pos != w->len)
		return syntax(w, "the end of the file");
	if (check_header(sd, 1) != 0)
		return -1;
	if (!series_seen) {
		stat_err("%s: not a zcshim-stat --json document", sd->file);
		return -1;
	}
	return 0;
}

static int load_side(struct side *sd, const char *file)
{
	char *text;
	size_t len;
	memset(sd, 0, sizeof *sd);
	sd->file = file;
	if (read_file(file, &text, &len) != 0)
		return -1;
	struct walk w = { file, text, len, 0 };
	sd->doc = json_object();
	int rc = sd->doc ? walk_doc(sd, &w) : (stat_err("out of memory"), -1);
	free(text);
	return rc;
}

/* A string of the document as the table shows names: a dump holds them in
 * their text form, turned back into the app's bytes first so they are not
 * escaped twice; a hostile file's control characters come out as \xNN. */
static void shown(FILE *f, const char *s)
{
	char *bytes = strdup(s ? s : "?");
	if (!bytes) {
		fputs("?", f);
		return;
	}
	bytes[esc_decode(bytes, strlen(bytes))] = '\0';
	esc_table(f, bytes);
	free(bytes);
}

static void describe(FILE *f, const char *tag, const struct side *sd)
{
	uint64_t pid = 0, messages = 0, thr = 0;
	get_u64(sd->doc, "pid", &pid);
	get_u64(sd->doc, "messages", &messages);
	char thr_s[24] = "?";
	if (json_is_null(json_object_get(sd->doc, "threshold")))
		snprintf(thr_s, sizeof thr_s, "max");
	else if (get_u64(sd->doc, "threshold", &thr))
		zcs_format_size(thr, thr_s, sizeof thr_s);
	fprintf(f, "%s: pid %" PRIu64 " (", tag, pid);
	shown(f, get_str(sd->doc, "exe"));
	fputs("), mode ", f);
	shown(f, get_str(sd->doc, "mode"));
	fprintf(f, ", threshold %s, %" PRIu64 " messages  [", thr_s, messages);
	esc_table(f, sd->file);
	fputs("]\n", f);
}

static const char *paths(unsigned mask, char *buf, size_t len)
{
	buf[0] = '\0';
	for (unsigned p = 0; p <= ZCS_NPATHS; p++)
		if (mask & 1u << p)
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", buf[0] ? "+" : "",
				 zcs_path_name(p));
	return buf[0] ? buf : "-";
}

static double mean(const struct zcs_cell *c)
{
	uint64_t timed = zcs_cell_timed(c);
	return timed ? (double)c->time_ns_sum / (double)timed : 0;
}

static void ratio(FILE *f, double b, double a)
{
	if (a > 0 && b > 0)
		fprintf(f, " %8.2fx", b / a);
	else
		fprintf(f, " %9s", "-");
}

static void side_cols(FILE *f, const struct agg *a)
{
	char p[48], m[24], q[24];
	fprintf(f, "  %-19s %9" PRIu64 " %8s %8s", paths(a->paths, p, sizeof p), a->cell.count,
		fmt_ns_f(mean(&a->cell), m, sizeof m),
		fmt_ns(zcs_cell_quantile_ns(&a->cell, 0.99), q, sizeof q));
}

int compare_run(FILE *f, const char *a_file, const char *b_file)
{
	json_set_alloc_funcs(heap_alloc, heap_free);
	struct side *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
	int rc = 1;
	if (!a || !b) {
		stat_err("out of memory");
		goto out;
	}
	if (load_side(a, a_file) != 0 || load_side(b, b_file) != 0)
		goto out;
	describe(f, "A", a);
	describe(f, "B", b);
	fprintf(f, "%-10s %-11s  %-19s %9s %8s %8s  %-19s %9s %8s %8s %9s %9s\n", "op", "size",
		"A path", "count", "mean", "p99", "B path", "count", "mean", "p99", "mean B/A",
		"p99 B/A");
	int rows = 0;
	for (unsigned op = 0; op < ZCS_NOPS; op++) {
		for (unsigned k = 0; k <= ZCS_NSIZES; k++) {
			const struct agg *x = &a->agg[op][k], *y = &b->agg[op][k];
			char cls[40];
			if (!x->cell.count && !y->cell.count)
				continue;
			rows++;
			fprintf(f, "%-10s %-11s", zcs_op_name(op), fmt_class(k, cls, sizeof cls));
			side_cols(f, x);
			side_cols(f, y);
			ratio(f, mean(&y->cell), mean(&x->cell));
			ratio(f, (double)zcs_cell_quantile_ns(&y->cell, 0.99),
			      (double)zcs_cell_quantile_ns(&x->cell, 0.99));
			fputc('\n', f);
		}
	}
	if (!rows)
		fprintf(f, "(no calls recorded in either run)\n");
	rc = 0;
out:
	if (a)
		json_decref(a->doc);
	if (b)
		json_decref(b->doc);
	free(a);
	free(b);
	return rc;
}
