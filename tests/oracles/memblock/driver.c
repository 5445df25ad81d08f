// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fwc memblock oracle: op-script driver for the real mm/memblock.c.
 *
 * Linked at test time against the kernel's unmodified memblock.c (compiled
 * with physmem_shim.h force-included) and the stub objects of the kernel's
 * tools/testing/memblock harness.  Reads one operation per line and prints
 * one result line per operation, in the format of fwc's Python model
 * (fwc_plugins.boot.memblock), so that both can be diffed line by line.
 *
 * Usage: mbdrv [-b] [-e] [-t] < script
 *   -b  batch: scripts separated by lines "%%"; each runs in a forked child
 *       (fresh static state: memblock_can_resize and system_has_some_mirror
 *       are sticky), and its output is followed by a line "%%"; a child
 *       killed by BUG_ON() adds "abort signal=N" before it, one that
 *       panic()ed (the harness's panic() is exit(-1)) "exit status=255".
 *   -e  echo each operation as "> op args" before its result.
 *   -t  print op count and time to stderr.
 * A script error prints "error line=L col=C: message" and exits with 2.
 *
 * memblock's own printf()/WARN output is sent to stderr: results go to a
 * private duplicate of the original stdout.
 *
 * This file is fwc's own code (GPL-2.0-or-later because it links memblock.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stdbool.h>
#include <unistd.h>
#include <errno.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <signal.h>
#include <linux/memblock.h>

/* ---- globals normally provided by tests/common.c ------------------------ */
bool movable_node_enabled;
extern bool mirrored_kernelcore;	/* defined by the harness's internal.h */

/* memblock.c only calls these when slab is available, which it never is. */
void *kmalloc(size_t size, gfp_t gfp) { (void)size; (void)gfp; abort(); }
void kfree(void *p) { (void)p; abort(); }

/* ---- physical memory shim (see physmem_shim.h) -------------------------- */
#define CHUNK_ARRAY (64UL << 20)	/* room for a 2.8M-entry region array */
#define CHUNK_TEMP  (64UL << 10)
#define TEMP_MEMSET_CAP (64UL << 10)

struct chunk { char *ptr; size_t len; unsigned long long phys; int temp; };
static struct chunk chunks[4096];
static int nchunks;

void *fwc_shim_va(unsigned long long phys, int temp)
{
	size_t len = temp ? CHUNK_TEMP : CHUNK_ARRAY;
	void *p;

	if (nchunks == (int)(sizeof(chunks) / sizeof(chunks[0]))) {
		fprintf(stderr, "mbdrv: too many shim chunks\n");
		abort();
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		perror("mbdrv: mmap");
		abort();
	}
	chunks[nchunks].ptr = p;
	chunks[nchunks].len = len;
	chunks[nchunks].phys = phys;
	chunks[nchunks].temp = temp;
	nchunks++;
	return p;
}

static struct chunk *find_chunk(const void *p)
{
	const char *c = p;
	int i;

	for (i = nchunks - 1; i >= 0; i--)
		if (c >= chunks[i].ptr && c < chunks[i].ptr + chunks[i].len)
			return &chunks[i];
	return NULL;
}

unsigned long long fwc_shim_pa(const void *p)
{
	struct chunk *ch = find_chunk(p);

	if (!ch) {
		fprintf(stderr, "mbdrv: __pa of a pointer outside the shim\n");
		abort();
	}
	return ch->phys + (unsigned long long)((const char *)p - ch->ptr);
}

#undef memset
void *fwc_shim_memset(void *p, int c, size_t n)
{
	struct chunk *ch = find_chunk(p);

	if (ch) {
		size_t left = ch->len - (size_t)((char *)p - ch->ptr);

		if (n > left)
			n = left;
		if (ch->temp && n > TEMP_MEMSET_CAP)
			n = TEMP_MEMSET_CAP;
	}
	return memset(p, c, n);
}

static void release_temp_chunks(void)
{
	int i, j = 0;

	for (i = 0; i < nchunks; i++) {
		if (chunks[i].temp)
			munmap(chunks[i].ptr, chunks[i].len);
		else
			chunks[j++] = chunks[i];
	}
	nchunks = j;
}

/* ---- script parsing ------------------------------------------------------ */
static FILE *out;
static int opt_echo, opt_time;
static struct memblock_region *init_memory_regions, *init_reserved_regions;
/* the static initializer's cnt of an empty array: 1 (a dummy entry) in 6.1, 0 in 6.12 */
static unsigned long init_cnt;
static long nops;

struct tok { const char *s; int len; int col; };

static int lineno;

static void fail(int col, const char *msg, const struct tok *t)
{
	if (t)
		fprintf(out, "error line=%d col=%d: %s '%.*s'\n", lineno, col, msg,
			t->len, t->s);
	else
		fprintf(out, "error line=%d col=%d: %s\n", lineno, col, msg);
	fflush(out);
	fprintf(stderr, "mbdrv: line %d col %d: %s\n", lineno, col, msg);
	_exit(2);
}

static bool tok_is(const struct tok *t, const char *w)
{
	return (int)strlen(w) == t->len && !memcmp(t->s, w, t->len);
}

/* decimal or 0x-hex, optional K/M/G/T suffix; no sign; fits in u64 */
static bool parse_u64_raw(const struct tok *t, int off, unsigned long long *v)
{
	const char *s = t->s + off;
	int n = t->len - off, i = 0, shift = 0;
	unsigned long long x = 0;
	bool hex = false, any = false;

	if (n <= 0)
		return false;
	switch (s[n - 1]) {
	case 'K': case 'k': shift = 10; n--; break;
	case 'M': case 'm': shift = 20; n--; break;
	case 'G': case 'g': shift = 30; n--; break;
	case 'T': case 't': shift = 40; n--; break;
	}
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		hex = true;
		i = 2;
	} else if (n >= 2 && s[0] == '0') {
		return false;		/* no octal */
	}
	for (; i < n; i++) {
		unsigned d;
		char c = s[i];

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (hex && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (hex && c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return false;
		if (hex) {
			if (x >> 60)
				return false;
			x = x * 16 + d;
		} else {
			if (x > (~0ULL - d) / 10)
				return false;
			x = x * 10 + d;
		}
		any = true;
	}
	if (!any)
		return false;
	if (shift && (x >> (64 - shift)))
		return false;
	*v = x << shift;
	return true;
}

static unsigned long long get_u64(const struct tok *t)
{
	unsigned long long v;

	if (tok_is(t, "anywhere"))
		return MEMBLOCK_ALLOC_ANYWHERE;
	if (tok_is(t, "accessible"))
		return MEMBLOCK_ALLOC_ACCESSIBLE;
	if (tok_is(t, "noleaktrace"))
		return MEMBLOCK_ALLOC_NOLEAKTRACE;
	if (!parse_u64_raw(t, 0, &v))
		fail(t->col, "bad number", t);
	return v;
}

static int get_nid(const struct tok *t)
{
	unsigned long long v;

	if (tok_is(t, "none"))
		return NUMA_NO_NODE;
	if (tok_is(t, "max"))
		return MAX_NUMNODES;
	if (t->len > 1 && t->s[0] == '-') {
		if (!parse_u64_raw(t, 1, &v) || v > 0x80000000ULL)
			fail(t->col, "bad node id", t);
		return (int)-(long long)v;
	}
	if (!parse_u64_raw(t, 0, &v) || v > 0x7fffffffULL)
		fail(t->col, "bad node id", t);
	return (int)v;
}

static unsigned get_flags(const struct tok *t)
{
	unsigned long long v;

	if (!parse_u64_raw(t, 0, &v) || v > 0xffffffffULL)
		fail(t->col, "bad flags", t);
	return (unsigned)v;
}

static int get_bool(const struct tok *t)
{
	if (tok_is(t, "0"))
		return 0;
	if (tok_is(t, "1"))
		return 1;
	fail(t->col, "expected 0 or 1", t);
	return 0;
}

/* ---- operations ----------------------------------------------------------- */
static void dump_type(struct memblock_type *type)
{
	unsigned long i;

	fprintf(out, "%s.type cnt=%lu max=%lu total_size=0x%llx\n", type->name,
		type->cnt, type->max, (unsigned long long)type->total_size);
	if (type->cnt == 1 && type->regions[0].size == 0)
		return;
	for (i = 0; i < type->cnt; i++) {
		struct memblock_region *r = &type->regions[i];

		fprintf(out, "%s 0x%llx 0x%llx 0x%x %d\n", type->name,
			(unsigned long long)r->base, (unsigned long long)r->size,
			(unsigned)r->flags, r->nid);
	}
}

static void do_dump(void)
{
	fprintf(out, "dump bottom_up=%d current_limit=0x%llx movable_node=%d\n",
		memblock.bottom_up ? 1 : 0,
		(unsigned long long)memblock.current_limit,
		movable_node_enabled ? 1 : 0);
	dump_type(&memblock.memory);
	dump_type(&memblock.reserved);
	fprintf(out, "end\n");
}

static void do_reset(void)
{
	memblock.memory.regions = init_memory_regions;
	memblock.reserved.regions = init_reserved_regions;
	memset(init_memory_regions, 0, 128 * sizeof(struct memblock_region));
	memset(init_reserved_regions, 0, 128 * sizeof(struct memblock_region));
	memblock.memory.cnt = init_cnt;
	memblock.memory.max = 128;
	memblock.memory.total_size = 0;
	memblock.memory.regions[0].nid = MAX_NUMNODES;
	memblock.reserved.cnt = init_cnt;
	memblock.reserved.max = 128;
	memblock.reserved.total_size = 0;
	memblock.reserved.regions[0].nid = MAX_NUMNODES;
	memblock.bottom_up = false;
	memblock.current_limit = MEMBLOCK_ALLOC_ANYWHERE;
	movable_node_enabled = false;
}

static unsigned long long virt_result(void *p)
{
	return p ? fwc_shim_pa(p) : 0;
}

#define NEED(n) do { if (nt - 1 != (n)) arity(&t[0], nt - 1, #n); } while (0)
#define NEED2(a, b) do { if (nt - 1 != (a) && nt - 1 != (b)) arity(&t[0], nt - 1, #a " or " #b); } while (0)

static void arity(const struct tok *op, int got, const char *want)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "wrong number of arguments (%d, expected %s) for", got, want);
	fail(op->col, msg, op);
}

static void run_op(struct tok *t, int nt)
{
	const struct tok *op = &t[0];
	char name[32];
	int ret;

	snprintf(name, sizeof(name), "%.*s", op->len > 31 ? 31 : op->len, op->s);

	if (tok_is(op, "add")) {
		if (nt - 1 < 2 || nt - 1 > 4)
			arity(&t[0], nt - 1, "2 to 4");
		if (nt - 1 == 2) {
			unsigned long long b = get_u64(&t[1]), s = get_u64(&t[2]);

			ret = memblock_add(b, s);
		} else {
			unsigned long long b = get_u64(&t[1]), s = get_u64(&t[2]);
			int nid = get_nid(&t[3]);
			unsigned fl = nt - 1 == 4 ? get_flags(&t[4]) : 0;

			ret = memblock_add_node(b, s, nid, fl);
		}
		fprintf(out, "add %d\n", ret);
	} else if (tok_is(op, "reserve") || tok_is(op, "remove") || tok_is(op, "free") ||
		   tok_is(op, "mark_hotplug") || tok_is(op, "clear_hotplug") ||
		   tok_is(op, "mark_nomap") || tok_is(op, "clear_nomap") ||
		   tok_is(op, "mark_mirror")) {
		unsigned long long b, s;

		NEED(2);
		b = get_u64(&t[1]);
		s = get_u64(&t[2]);
		if (tok_is(op, "reserve"))
			ret = memblock_reserve(b, s);
		else if (tok_is(op, "remove"))
			ret = memblock_remove(b, s);
		else if (tok_is(op, "free"))
			ret = memblock_phys_free(b, s);
		else if (tok_is(op, "mark_hotplug"))
			ret = memblock_mark_hotplug(b, s);
		else if (tok_is(op, "clear_hotplug"))
			ret = memblock_clear_hotplug(b, s);
		else if (tok_is(op, "mark_nomap"))
			ret = memblock_mark_nomap(b, s);
		else if (tok_is(op, "clear_nomap"))
			ret = memblock_clear_nomap(b, s);
		else
			ret = memblock_mark_mirror(b, s);
		fprintf(out, "%s %d\n", name, ret);
	} else if (tok_is(op, "set_node")) {
		unsigned long long b, s;
		int nid;
		struct memblock_type *type = &memblock.memory;

		NEED2(3, 4);
		b = get_u64(&t[1]);
		s = get_u64(&t[2]);
		nid = get_nid(&t[3]);
		if (nt - 1 == 4) {
			if (tok_is(&t[4], "reserved"))
				type = &memblock.reserved;
			else if (!tok_is(&t[4], "memory"))
				fail(t[4].col, "expected memory or reserved", &t[4]);
		}
		ret = memblock_set_node(b, s, type, nid);
		fprintf(out, "set_node %d\n", ret);
	} else if (tok_is(op, "bottom_up")) {
		NEED(1);
		memblock_set_bottom_up(get_bool(&t[1]));
		fprintf(out, "bottom_up %d\n", memblock_bottom_up() ? 1 : 0);
	} else if (tok_is(op, "movable_node")) {
		NEED(1);
		movable_node_enabled = get_bool(&t[1]);
		fprintf(out, "movable_node %d\n", movable_node_enabled ? 1 : 0);
	} else if (tok_is(op, "mirrored_kernelcore")) {
		NEED(1);
		mirrored_kernelcore = get_bool(&t[1]);
		fprintf(out, "mirrored_kernelcore %d\n", mirrored_kernelcore ? 1 : 0);
	} else if (tok_is(op, "current_limit")) {
		NEED(1);
		memblock_set_current_limit(get_u64(&t[1]));
		fprintf(out, "current_limit 0x%llx\n",
			(unsigned long long)memblock_get_current_limit());
	} else if (tok_is(op, "allow_resize")) {
		NEED(0);
		memblock_allow_resize();
		fprintf(out, "allow_resize ok\n");
	} else if (tok_is(op, "reset")) {
		NEED(0);
		do_reset();
		fprintf(out, "reset ok\n");
	} else if (tok_is(op, "alloc")) {
		unsigned long long s, a, mn, mx;
		int nid, exact = 0;

		NEED2(5, 6);
		s = get_u64(&t[1]);
		a = get_u64(&t[2]);
		mn = get_u64(&t[3]);
		mx = get_u64(&t[4]);
		nid = get_nid(&t[5]);
		if (nt - 1 == 6)
			exact = get_bool(&t[6]);
		fprintf(out, "alloc 0x%llx\n", (unsigned long long)
			memblock_alloc_range_nid(s, a, mn, mx, nid, exact));
	} else if (tok_is(op, "phys_alloc_range")) {
		unsigned long long s, a, st, en;

		NEED(4);
		s = get_u64(&t[1]);
		a = get_u64(&t[2]);
		st = get_u64(&t[3]);
		en = get_u64(&t[4]);
		fprintf(out, "phys_alloc_range 0x%llx\n", (unsigned long long)
			memblock_phys_alloc_range(s, a, st, en));
	} else if (tok_is(op, "phys_alloc_try_nid")) {
		unsigned long long s, a;
		int nid;

		NEED(3);
		s = get_u64(&t[1]);
		a = get_u64(&t[2]);
		nid = get_nid(&t[3]);
		fprintf(out, "phys_alloc_try_nid 0x%llx\n", (unsigned long long)
			memblock_phys_alloc_try_nid(s, a, nid));
	} else if (tok_is(op, "alloc_try_nid") || tok_is(op, "alloc_try_nid_raw") ||
		   tok_is(op, "alloc_exact_nid_raw")) {
		unsigned long long s, a, mn, mx, r;
		int nid;

		NEED(5);
		s = get_u64(&t[1]);
		a = get_u64(&t[2]);
		mn = get_u64(&t[3]);
		mx = get_u64(&t[4]);
		nid = get_nid(&t[5]);
		if (tok_is(op, "alloc_try_nid"))
			r = virt_result(memblock_alloc_try_nid(s, a, mn, mx, nid));
		else if (tok_is(op, "alloc_try_nid_raw"))
			r = virt_result(memblock_alloc_try_nid_raw(s, a, mn, mx, nid));
		else
			r = virt_result(memblock_alloc_exact_nid_raw(s, a, mn, mx, nid));
		fprintf(out, "%s 0x%llx\n", name, r);
	} else if (tok_is(op, "trim")) {
		NEED(1);
		memblock_trim_memory(get_u64(&t[1]));
		fprintf(out, "trim ok\n");
	} else if (tok_is(op, "enforce_limit")) {
		NEED(1);
		memblock_enforce_memory_limit(get_u64(&t[1]));
		fprintf(out, "enforce_limit ok\n");
	} else if (tok_is(op, "cap_range")) {
		unsigned long long b, s;

		NEED(2);
		b = get_u64(&t[1]);
		s = get_u64(&t[2]);
		memblock_cap_memory_range(b, s);
		fprintf(out, "cap_range ok\n");
	} else if (tok_is(op, "mem_limit_remove_map")) {
		NEED(1);
		memblock_mem_limit_remove_map(get_u64(&t[1]));
		fprintf(out, "mem_limit_remove_map ok\n");
	} else if (tok_is(op, "is_memory") || tok_is(op, "is_reserved") ||
		   tok_is(op, "is_map_memory")) {
		unsigned long long a;
		bool r;

		NEED(1);
		a = get_u64(&t[1]);
		if (tok_is(op, "is_memory"))
			r = memblock_is_memory(a);
		else if (tok_is(op, "is_reserved"))
			r = memblock_is_reserved(a);
		else
			r = memblock_is_map_memory(a);
		fprintf(out, "%s %d\n", name, r ? 1 : 0);
	} else if (tok_is(op, "is_region_memory") || tok_is(op, "is_region_reserved")) {
		unsigned long long b, s;
		bool r;

		NEED(2);
		b = get_u64(&t[1]);
		s = get_u64(&t[2]);
		if (tok_is(op, "is_region_memory"))
			r = memblock_is_region_memory(b, s);
		else
			r = memblock_is_region_reserved(b, s);
		fprintf(out, "%s %d\n", name, r ? 1 : 0);
	} else if (tok_is(op, "phys_mem_size") || tok_is(op, "reserved_size") ||
		   tok_is(op, "start_of_dram") || tok_is(op, "end_of_dram")) {
		unsigned long long v;

		NEED(0);
		if (tok_is(op, "phys_mem_size"))
			v = memblock_phys_mem_size();
		else if (tok_is(op, "reserved_size"))
			v = memblock_reserved_size();
		else if (tok_is(op, "start_of_dram"))
			v = memblock_start_of_DRAM();
		else
			v = memblock_end_of_DRAM();
		fprintf(out, "%s 0x%llx\n", name, v);
	} else if (tok_is(op, "dump")) {
		NEED(0);
		do_dump();
	} else {
		fail(op->col, "unknown operation", op);
	}
	release_temp_chunks();
	nops++;
}

#define MAXTOK 16

static void run_line(char *line, int len)
{
	struct tok t[MAXTOK];
	int nt = 0, i = 0;

	while (i < len) {
		char c = line[i];

		if (c == '#' || c == '\n')
			break;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
			i++;
			continue;
		}
		if (nt == MAXTOK)
			fail(i + 1, "too many arguments", NULL);
		t[nt].s = line + i;
		t[nt].col = i + 1;
		while (i < len && line[i] != ' ' && line[i] != '\t' && line[i] != '\r' &&
		       line[i] != '\f' && line[i] != '\v' && line[i] != '#' &&
		       line[i] != '\n')
			i++;
		t[nt].len = (int)(line + i - t[nt].s);
		nt++;
	}
	if (!nt)
		return;
	if (opt_echo) {
		int j;

		fputs(">", out);
		for (j = 0; j < nt; j++)
			fprintf(out, " %.*s", t[j].len, t[j].s);
		fputs("\n", out);
	}
	run_op(t, nt);
}

/* Run the lines in [buf, buf+len). */
static void run_text(char *buf, size_t len)
{
	size_t pos = 0;

	lineno = 0;
	while (pos < len) {
		char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - buf) : len;

		lineno++;
		run_line(buf + pos, (int)(end - pos));
		pos = end + 1;
	}
}

static char *slurp(size_t *lenp)
{
	size_t cap = 1 << 20, len = 0;
	char *buf = malloc(cap);
	size_t n;

	while ((n = fread(buf + len, 1, cap - len, stdin)) > 0) {
		len += n;
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
	}
	*lenp = len;
	return buf;
}

/* BUG_ON() is assert(): flush what was printed so far, then die as usual */
static void on_abort(int sig)
{
	if (out)
		fflush(out);
	signal(sig, SIG_DFL);
	raise(sig);
}

static bool is_sep(const char *s, size_t n)
{
	while (n && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return n == 2 && s[0] == '%' && s[1] == '%';
}

int main(int argc, char **argv)
{
	int opt, batch = 0, fd;
	struct timespec t0, t1;
	size_t len;
	char *buf;

	while ((opt = getopt(argc, argv, "bet")) != -1) {
		switch (opt) {
		case 'b': batch = 1; break;
		case 'e': opt_echo = 1; break;
		case 't': opt_time = 1; break;
		default:
			fprintf(stderr, "usage: %s [-b] [-e] [-t] < script\n", argv[0]);
			return 2;
		}
	}
	/* results go to a private copy of stdout; memblock's printf to stderr */
	fd = dup(1);
	out = fdopen(fd, "w");
	setvbuf(out, NULL, _IOFBF, 1 << 16);
	dup2(2, 1);
	signal(SIGABRT, on_abort);

	init_memory_regions = memblock.memory.regions;
	init_reserved_regions = memblock.reserved.regions;
	init_cnt = memblock.memory.cnt;

	buf = slurp(&len);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!batch) {
		run_text(buf, len);
	} else {
		size_t pos = 0, start = 0;

		while (start <= len) {
			size_t end;
			pid_t pid;
			int st;

			/* find the next separator line */
			pos = start;
			end = len;
			while (pos < len) {
				char *nl = memchr(buf + pos, '\n', len - pos);
				size_t le = nl ? (size_t)(nl - buf) : len;

				if (is_sep(buf + pos, le - pos)) {
					end = pos;
					break;
				}
				pos = le + 1;
			}
			if (end == len && start == len)
				break;
			fflush(out);
			pid = fork();
			if (pid < 0) {
				perror("fork");
				return 1;
			}
			if (pid == 0) {
				run_text(buf + start, end - start);
				fflush(out);
				_exit(0);
			}
			waitpid(pid, &st, 0);
			if (WIFSIGNALED(st))
				fprintf(out, "abort signal=%d\n", WTERMSIG(st));
			else if (WIFEXITED(st) && WEXITSTATUS(st))	/* panic() (6.12) is exit(-1) */
				fprintf(out, "exit status=%d\n", WEXITSTATUS(st));
			fprintf(out, "%%%%\n");
			if (end == len)
				break;
			{
				char *nl = memchr(buf + end, '\n', len - end);

				start = nl ? (size_t)(nl - buf) + 1 : len;
			}
			if (start >= len)
				break;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fflush(out);
	if (opt_time)
		fprintf(stderr, "mbdrv: %ld ops in %.3f ms\n", nops,
			(t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
	free(buf);
	return 0;
}
