/* tests/test_spool.c - unit tests for export/spool.c: CRC32C, append/iterate, ack/nack, reopen (what was acked is
 * never returned again, also when acked out of order), ordering marks, segment rotation and deletion, size cap,
 * fsync modes, locking, write errors, and corruption: a flipped byte at every offset of a small spool file and a
 * truncation at every length lose exactly the damaged record, keep all others in order, and are reported.
 */
#include "config/config.h"
#include "config/log.h"
#include "export/spool.h"
#include "tests/harness.h"
#include "tests/tmplog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static int dirn;

/* ---- helpers -------------------------------------------------------------------------------------------- */

static void newdir(char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/s%d", tmproot, dirn++);
}

static struct ots_spool *open_dir(const char *dir, uint64_t max, uint64_t segb, int mode)
{
	struct ots_spool_opts o = { .dir = dir, .max_bytes = max, .segment_bytes = segb, .fsync_mode = mode,
				    .fsync_ms = 1 };
	struct ots_spool *sp = NULL;
	char err[512] = "";
	int r = ots_spool_open(&sp, &o, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "\n  open %s: %d %s\n", dir, r, err);
	return sp;
}

/* deterministic record i: key "k<i>", value of (i*37)%900 bytes derived from i */
static size_t mkval(int i, char *buf)
{
	size_t n = (size_t)((i * 37) % 900);
	for (size_t j = 0; j < n; j++)
		buf[j] = (char)('a' + (i + (int)j) % 26);
	return n;
}

static int put(struct ots_spool *sp, int i)
{
	char key[32], val[1024];
	int kl = snprintf(key, sizeof(key), "k%d", i);
	size_t vl = mkval(i, val);
	return ots_spool_append(sp, i % 4, key, (size_t)kl, val, vl);
}

static int put_at(struct ots_spool *sp, uint64_t mark, int i)
{
	char key[32], val[1024];
	int kl = snprintf(key, sizeof(key), "k%d", i);
	size_t vl = mkval(i, val);
	return ots_spool_append_at(sp, mark, i % 4, key, (size_t)kl, val, vl);
}

/* index of the record (by its key), after checking its type and value; -1 when it is not one of ours */
static int recidx(const struct ots_spool_rec *r)
{
	char key[32], val[1024];
	if (r->klen < 2 || r->klen >= sizeof(key) || ((const char *)r->key)[0] != 'k')
		return -1;
	memcpy(key, r->key, r->klen);
	key[r->klen] = 0;
	int i = atoi(key + 1);
	size_t vl = mkval(i, val);
	if (r->type != i % 4 || r->vlen != vl || memcmp(r->val, val, vl) != 0)
		return -2;
	return i;
}

/* read everything unread, ack it all when ack is set; fill out[] with indexes; returns the count */
static int drain(struct ots_spool *sp, int *out, int cap, int ack)
{
	struct ots_spool_rec r;
	int n = 0;
	while (ots_spool_next(sp, &r) == 1) {
		if (n < cap)
			out[n] = recidx(&r);
		n++;
		if (ack)
			ots_spool_ack(sp, r.ticket);
	}
	return n;
}

static int count_segs(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strstr(de->d_name, ".seg"))
			n++;
	closedir(d);
	return n;
}

/* the one segment file in dir */
static int seg_file(const char *dir, char *path, size_t cap)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d)))
		if (strstr(de->d_name, ".seg")) {
			snprintf(path, cap, "%s/%.40s", dir, de->d_name);
			n++;
		}
	closedir(d);
	return n == 1 ? 0 : -1;
}

static void write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, p, n) == (ssize_t)n);
	close(fd);
}

static size_t read_file(const char *path, void *p, size_t cap)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, p, cap);
	close(fd);
	return n < 0 ? 0 : (size_t)n;
}

/* ---- tests ---------------------------------------------------------------------------------------------- */

static void test_crc32c(void)
{
	CU_ASSERT_EQUAL(ots_crc32c(0, "123456789", 9), 0xe3069283u);
	CU_ASSERT_EQUAL(ots_crc32c_sw(0, "123456789", 9), 0xe3069283u);
	CU_ASSERT_EQUAL(ots_crc32c(0, "", 0), 0);
	uint8_t buf[1000];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	for (size_t n = 0; n < sizeof(buf); n += 37) {
		CU_ASSERT_EQUAL(ots_crc32c(0, buf, n), ots_crc32c_sw(0, buf, n));
		/* chaining = one pass */
		uint32_t c = ots_crc32c(0, buf, n / 3);
		c = ots_crc32c_sw(c, buf + n / 3, n - n / 3);
		CU_ASSERT_EQUAL(c, ots_crc32c(0, buf, n));
	}
}

static void test_append_iterate(void)
{
	char dir[300];
	newdir(dir, sizeof(dir));
	struct ots_spool *sp = open_dir(dir, 64 << 20, 0, OTS_FSYNC_NEVER);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
	CU_ASSERT_EQUAL(ots_spool_unread(sp), 0);
	for (int i = 0; i < 300; i++)
		CU_ASSERT_EQUAL(put(sp, i), 0);
	struct ots_spool_stats st;
	ots_spool_stats(sp, &st);
	CU_ASSERT_EQUAL(st.records, 300);
	CU_ASSERT_EQUAL(st.unread, 300);
	CU_ASSERT_EQUAL(st.appended, 300);
	CU_ASSERT(st.bytes > 300 * OTS_SPOOL_HDR);
	int idx[400];
	int n = drain(sp, idx, 400, 0);
	CU_ASSERT_EQUAL(n, 300);
	int inorder = 1;
	for (int i = 0; i < 300; i++)
		inorder &= idx[i] == i;
	CU_ASSERT(inorder);
	ots_spool_stats(sp, &st);
	CU_ASSERT_EQUAL(st.unread, 0);
	CU_ASSERT_EQUAL(st.inflight, 300);
	CU_ASSERT_EQUAL(st.records, 300);
	/* appending while records are handed out: next() returns the new one */
	CU_ASSERT_EQUAL(put(sp, 300), 0);
	CU_ASSERT_EQUAL(ots_spool_unread(sp), 1);
	struct ots_spool_rec r;
	CU_ASSERT_EQUAL(ots_spool_next(sp, &r), 1);
	CU_ASSERT_EQUAL(recidx(&r), 300);
	CU_ASSERT_EQUAL(ots_spool_next(sp, &r), 0);
	ots_spool_close(sp);
}

static void test_empty_key_value(void)
{
	char dir[300];
	newdir(dir, sizeof(dir));
	struct ots_spool *sp = open_dir(dir, 1 << 20, 0, OTS_FSYNC_NEVER);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
	CU_ASSERT_EQUAL(ots_spool_append(sp, 3, NULL, 0, NULL, 0), 0);
	CU_ASSERT_EQUAL(ots_spool_append(sp, 2, "key", 3, NULL, 0), 0);
	CU_ASSERT_EQUAL(ots_spool_append(sp, 1, NULL, 0, "val", 3), 0);
	struct ots_spool_rec r;
	CU_ASSERT_EQUAL(ots_spool_next(sp, &r), 1);
	CU_ASSERT(r.type == 3 && r.klen == 0 && r.vlen == 0);
	CU_ASSERT_EQUAL(ots_spool_next(sp, &r), 1);
	CU_ASSERT(r.type == 2 && r.klen == 3 && r.vlen == 0 && !memcmp(r.key, "key", 3));
	CU_ASSERT_EQUAL(ots_spool_next(sp, &r), 1);
	CU_ASSERT(r.type == 1 && r.klen == 0 && r.vlen == 3 && !memcmp(r.val, "val", 3));
	CU_ASSERT_EQUAL(ots_spool_next(sp, &r), 0);
	ots_spool_close(sp);
}

static void test_ack_all_deletes(void)
{
	char dir[300];
	newdir(dir, sizeof(dir));
	struct ots_spool *sp = open_dir(dir, 64 << 20, 8192, OTS_FSYNC_NEVER);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
	for (int i = 0; i < 100; i++)
		CU_ASSERT_EQUAL(put(sp, i), 0);
	CU_ASSERT(count_segs(dir) > 3); /* 8 KiB segments */
	int idx[100];
	CU_ASSERT_EQUAL(drain(sp, idx, 100, 1), 100);
	struct ots_spool_stats st;
	ots_spool_stats(sp, &st);
	CU_ASSERT_EQUAL(st.records, 0);
	CU_ASSERT_EQUAL(st.bytes, 0);
	CU_ASSERT_EQUAL(st.segments, 0);
	CU_ASSERT_EQUAL(count_segs(dir), 0);
	/* and it goes on */
	CU_ASSERT_EQUAL(put(sp, 100), 0);
	CU_ASSERT_EQUAL(drain(sp, idx, 100, 1), 1);
	CU_ASSERT_EQUAL(idx[0], 100);
	CU_ASSERT_EQUAL(count_segs(dir), 0);
	ots_spool_close(sp);
	/* an empty spool reopens empty */
	sp = open_dir(dir, 64 << 20, 8192, OTS_FSYNC_NEVER);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
	CU_ASSERT_EQUAL(ots_spool_unread(sp), 0);
	ots_spool_close(sp);
}

static void test_segments_deleted_progressively(void)
{
	char dir[300];
	newdir(dir, sizeof(dir));
	struct ots_spool *sp = open_dir(dir, 64 << 20, 4096, OTS_FSYNC_NEVER);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
	for (int i = 0; i < 200; i++)
		CU_ASSERT_EQUAL(put(sp, i), 0);
	int segs0 = count_segs(dir);
	CU_ASSERT(segs0 >= 20);
	struct ots_spool_rec r;
	int ok = 1;
	for (int i = 0; i < 100; i++) {
		CU_ASSERT_EQUAL_FATAL(ots_spool_next(sp, &r), 1);
		ok &= recidx(&r) == i;
		ots_spool_ack(sp, r.ticket);
	}
	CU_ASSERT(ok);
	int segs1 = count_segs(dir);
	CU_ASSERT(segs1 < segs0 - 5 && segs1 > 0);
	struct ots_spool_stats st;
	ots_spool_stats(sp, &st);
	CU_ASSERT_EQUAL(st.records, 100);
	CU_ASSERT_EQUAL((int)st.segments, segs1);
	ots_spool_close(sp);
	sp = open_dir(dir, 64 << 20, 4096, OTS_FSYNC_NEVER);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
	int idx[200];
	CU_ASSERT_EQUAL(drain(sp, idx, 200, 1), 100);
	CU_ASSERT_EQUAL(idx[0], 100);
	CU_ASSERT_EQUAL(idx[99], 199);
	CU_ASSERT_EQUAL(count_segs(dir), 0);
	ots_spool_close(sp);
}

static void test_reopen_resumes(void)
{
	char dir[300];
	newdir(dir, sizeof(dir));
	struct ots_spool *sp = open_dir(dir, 64 << 20, 0, OTS_FSYNC_INTERVAL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
	for (int i = 0; i < 100; i++)
		CU_ASSERT_EQUAL(put(sp, i), 0);
	ots_spool_close(sp);

	sp = open_dir(dir, 64 << 20, 0, OTS_FSYNC_INTERVAL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
	CU_ASSERT_EQUAL(ots_spool_unread(sp), 100);
	struct ots_spool_rec r;
	for (int i = 0; i < 50; i++) {
		CU_ASSERT_EQUAL_FATAL(ots_spool_next(sp, &r), 1);
		CU_ASSERT_EQUAL(recidx(&r), i);
		if (i < 40)
			ots_spool_ack(sp, r.ticket); /* 40..49: handed out, never confirmed */
	}
	ots_spool_close(sp);

	sp = open_dir(dir, 64 << 20, 0, OTS_FSYNC_INTERVAL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
	CU_ASSERT_EQUAL(ots_spool_unread(sp), 60);
	int idx[100];
	CU_ASSERT_EQUAL(drain(sp, idx, 100, 0), 60);
	int ok = 1;
	for (int i = 0; i < 60; i++)
		ok &= idx[i] == 40 + i;
	CU_ASSERT(ok);
	ots_spool_close(sp);
}

static void test_out_of_order_ack(void)
{
	char dir[300];
	newdir(dir, sizeof(dir));
	struct ots_spool *sp = open_dir(dir, 64 << 20, 0, OTS_FSYNC_NEVER);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
	for (int i = 0; i < 20; i++)
		CU_ASSERT_EQUAL(put(sp, i), 0);
	struct ots_spool_rec r;
	uint64_t t[20];
	for (int i = 0; i < 12; i++) {
		CU_ASSERT_EQUAL_FATAL(ots_spool_next(sp, &r), 1);
		t[i] = r.ticket;
	}
	/* odd ones confirmed (other partitions overtook), even ones not */
	for (int i = 11; i >= 1; i -= 2)
		ots_spool_ack(sp, t[i]);
	ots_spool_ack(sp, t[3]); /* a second ack is harmless */
	CU_ASSERT_EQUAL(ots_spool_unread(sp), 8);
	ots_spool_close(sp);

	sp = open_dir(dir, 64 << 20, 0, OTS_FSYNC_NEVER);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
	CU_ASSERT_EQUAL(ots_spool_unread(sp), 14);
	int idx[20];
	CU_ASSERT_EQUAL(drain(sp, idx, 20, 1), 14);
	int want[] = { 0, 2, 4, 6, 8, 10, 12, 13, 14, 15, 16, 17, 18, 19 };
	int ok = 1;
	for (int i = 0; i < 14; i++)
		ok &= idx[i] == want[i];
	CU_ASSERT(ok);
	CU_ASSERT_EQUAL(count_segs(dir), 0);
	ots_spool_close(sp);
}

static void test_nack_order(void)
{
	char dir[300];
	newdir(dir, sizeof(dir));
	struct ots_spool *sp = open_dir(dir, 64 << 20, 0, OTS_FSYNC_NEVER);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
	for (int i = 0; i < 10; i++)
		CU_ASSERT_EQUAL(put(sp, i), 0);
	struct ots_spool_rec r;
	uint64_t t[10];
	for (int i = 0; i < 6; i++) {
		CU_ASSERT_EQUAL_FATAL(ots_spool_next(sp, &r), 1);
		t[i] = r.ticket;
	}
	ots_spool_nack(sp, t[3]);
	ots_spool_nack(sp, t[1]);
	ots_spool_nack(sp, t[1]); /* twice: harmless */
	ots_spool_ack(sp, t[0]);
	ots_spool_ack(sp, t[2]);
	CU_ASSERT_EQUAL(ots_spool_unread(sp), 6); /* 1, 3 and 6..9 */
	int want[] = { 1, 3, 6, 7, 8, 9 };
	for (int i = 0; i < 6; i++) {
		CU_ASSERT_EQUAL_FATAL(ots_spool_next(sp, &r), 1);
		CU_ASSERT_EQUAL(recidx(&r), want[i]);
		if (want[i] == 1 || want[i] == 3)
			CU_ASSERT_EQUAL(r.ticket, t[want[i]]);
		ots_spool_ack(sp, r.ticket);
	}
	CU_ASSERT_EQUAL(ots_spool_next(sp, &r), 0);
	ots_spool_ack(sp, t[4]);
	ots_spool_ack(sp, t[5]);
	struct ots_spool_stats st;
	ots_spool_stats(sp, &st);
	CU_ASSERT_EQUAL(st.records, 0);
	CU_ASSERT_EQUAL(st.inflight, 0);
	CU_ASSERT_EQUAL(count_segs(dir), 0);
	ots_spool_close(sp);
}

static void test_marks_order(void)
{
	char dir[300];
	newdir(dir, sizeof(dir));
	struct ots_spool *sp = open_dir(dir, 64 << 20, 0, OTS_FSYNC_NEVER);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
	/* A0 A1 spooled; D2 D3 sent directly (mark m1); E4 E5 spooled; D6 direct (m2); E7 spooled;
	 * D2, D3, D6 come back undelivered and are filed at their marks: order must be 0..7 */
	CU_ASSERT_EQUAL(put(sp, 0), 0);
	CU_ASSERT_EQUAL(put(sp, 1), 0);
	uint64_t m1 = ots_spool_mark(sp);
	CU_ASSERT_EQUAL(ots_spool_mark(sp), m1);
	CU_ASSERT_EQUAL(put(sp, 4), 0);
	CU_ASSERT_EQUAL(put(sp, 5), 0);
	uint64_t m2 = ots_spool_mark(sp);
	CU_ASSERT(m2 > m1);
	CU_ASSERT_EQUAL(put(sp, 7), 0);
	CU_ASSERT_EQUAL(put_at(sp, m2, 6), 0);
	CU_ASSERT_EQUAL(put_at(sp, m1, 2), 0);
	CU_ASSERT_EQUAL(put_at(sp, m1, 3), 0);
	CU_ASSERT_EQUAL(ots_spool_append_at(sp, 2, 0, "x", 1, "y", 1), -EINVAL); /* not a mark */
	ots_spool_close(sp);
	sp = open_dir(dir, 64 << 20, 0, OTS_FSYNC_NEVER);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
	int idx[10];
	CU_ASSERT_EQUAL(drain(sp, idx, 10, 0), 8);
	int ok = 1;
	for (int i = 0; i < 8; i++)
		ok &= idx[i] == i;
	CU_ASSERT(ok);

	/* in-process: the reader goes back to a mark below the segment it is reading */
	uint64_t m3 = ots_spool_mark(sp);
	CU_ASSERT_EQUAL(put(sp, 9), 0);
	struct ots_spool_rec r;
	CU_ASSERT_EQUAL(ots_spool_next(sp, &r), 1);
	CU_ASSERT_EQUAL(recidx(&r), 9);
	CU_ASSERT_EQUAL(put(sp, 10), 0);
	CU_ASSERT_EQUAL(put_at(sp, m3, 8), 0);
	CU_ASSERT_EQUAL(ots_spool_next(sp, &r), 1);
	CU_ASSERT_EQUAL(recidx(&r), 8);
	CU_ASSERT_EQUAL(ots_spool_next(sp, &r), 1);
	CU_ASSERT_EQUAL(recidx(&r), 10);
	ots_spool_close(sp);
}

static void test_big_records(void)
{
	char dir[300];
	newdir(dir, sizeof(dir));
	struct ots_spool *sp = open_dir(dir, 64 << 20, 0, OTS_FSYNC_NEVER);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
	size_t big = 3u << 20;
	char *v = malloc(OTS_SPOOL_MAX_RECORD + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	for (size_t i = 0; i < big; i++)
		v[i] = (char)(i * 7);
	CU_ASSERT_EQUAL(ots_spool_append(sp, 1, v, 65535, v, big), 0);
	CU_ASSERT_EQUAL(ots_spool_append(sp, 1, v, 65536, v, 10), -EMSGSIZE);
	CU_ASSERT_EQUAL(ots_spool_append(sp, 1, NULL, 0, v, OTS_SPOOL_MAX_RECORD + 1), -EMSGSIZE);
	CU_ASSERT_EQUAL(put(sp, 1), 0);
	ots_spool_close(sp);
	sp = open_dir(dir, 64 << 20, 0, OTS_FSYNC_NEVER);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
	struct ots_spool_rec r;
	CU_ASSERT_EQUAL_FATAL(ots_spool_next(sp, &r), 1);
	CU_ASSERT(r.klen == 65535 && r.vlen == big && !memcmp(r.key, v, 65535) && !memcmp(r.val, v, big));
	CU_ASSERT_EQUAL_FATAL(ots_spool_next(sp, &r), 1);
	CU_ASSERT_EQUAL(recidx(&r), 1);
	ots_spool_close(sp);
	free(v);
}

static void test_cap(void)
{
	char dir[300];
	newdir(dir, sizeof(dir));
	uint64_t cap = 64 << 10;
	struct ots_spool *sp = open_dir(dir, cap, 16 << 10, OTS_FSYNC_NEVER);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
	char v[1000];
	memset(v, 'x', sizeof(v));
	int n = 0, r;
	while ((r = ots_spool_append(sp, 0, "k", 1, v, sizeof(v))) == 0)
		n++;
	CU_ASSERT_EQUAL(r, -ENOSPC);
	CU_ASSERT_EQUAL(n, (int)(cap / (OTS_SPOOL_HDR + 1 + sizeof(v))));
	struct ots_spool_stats st;
	ots_spool_stats(sp, &st);
	CU_ASSERT(st.bytes <= cap);
	CU_ASSERT_EQUAL(st.records, (uint64_t)n);
	CU_ASSERT_EQUAL(ots_spool_append(sp, 0, "k", 1, v, sizeof(v)), -ENOSPC); /* still full */
	/* consuming the first segment frees room */
	struct ots_spool_rec rec;
	for (int i = 0; i < 20; i++) {
		CU_ASSERT_EQUAL_FATAL(ots_spool_next(sp, &rec), 1);
		ots_spool_ack(sp, rec.ticket);
	}
	CU_ASSERT_EQUAL(ots_spool_append(sp, 0, "k", 1, v, sizeof(v)), 0);
	ots_spool_close(sp);
	/* reopened over the cap (a smaller cap now): refuses until consumed */
	sp = open_dir(dir, 16 << 10, 16 << 10, OTS_FSYNC_NEVER);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
	CU_ASSERT_EQUAL(ots_spool_append(sp, 0, "k", 1, v, sizeof(v)), -ENOSPC);
	while (ots_spool_next(sp, &rec) == 1)
		ots_spool_ack(sp, rec.ticket);
	CU_ASSERT_EQUAL(ots_spool_append(sp, 0, "k", 1, v, sizeof(v)), 0);
	ots_spool_close(sp);
}

static void test_fsync_modes(void)
{
	int modes[] = { OTS_FSYNC_NEVER, OTS_FSYNC_INTERVAL, OTS_FSYNC_ALWAYS };
	for (int m = 0; m < 3; m++) {
		char dir[300];
		newdir(dir, sizeof(dir));
		struct ots_spool *sp = open_dir(dir, 64 << 20, 4096, modes[m]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
		for (int i = 0; i < 60; i++) {
			CU_ASSERT_EQUAL(put(sp, i), 0);
			if (i % 10 == 0) {
				usleep(2000); /* past the 1 ms interval */
				ots_spool_tick(sp);
			}
		}
		struct ots_spool_rec r;
		for (int i = 0; i < 10; i++) {
			CU_ASSERT_EQUAL_FATAL(ots_spool_next(sp, &r), 1);
			ots_spool_ack(sp, r.ticket);
		}
		ots_spool_tick(sp);
		ots_spool_sync(sp);
		ots_spool_close(sp);
		sp = open_dir(dir, 64 << 20, 4096, modes[m]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
		int idx[60];
		CU_ASSERT_EQUAL(drain(sp, idx, 60, 1), 50);
		CU_ASSERT_EQUAL(idx[0], 10);
		CU_ASSERT_EQUAL(idx[49], 59);
		ots_spool_close(sp);
	}
}

static void test_lock_and_bad_dir(void)
{
	char dir[300];
	newdir(dir, sizeof(dir));
	struct ots_spool *a = open_dir(dir, 1 << 20, 0, OTS_FSYNC_NEVER);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	struct ots_spool_opts o = { .dir = dir, .max_bytes = 1 << 20 };
	struct ots_spool *b = NULL;
	char err[512] = "";
	CU_ASSERT_EQUAL(ots_spool_open(&b, &o, err, sizeof(err)), -EBUSY);
	CU_ASSERT_PTR_NULL(b);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "in use by another otsense"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, dir));
	ots_spool_close(a);
	CU_ASSERT_EQUAL(ots_spool_open(&b, &o, err, sizeof(err)), 0); /* lock released on close */
	ots_spool_close(b);

	/* a directory that cannot be created */
	char file[300], sub[320];
	snprintf(file, sizeof(file), "%s/plainfile", tmproot);
	write_file(file, "x", 1);
	snprintf(sub, sizeof(sub), "%s/spool", file);
	o.dir = sub;
	err[0] = 0;
	CU_ASSERT(ots_spool_open(&b, &o, err, sizeof(err)) < 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, sub));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "export.spool.dir"));
	CU_ASSERT_PTR_NULL(strchr(err, '\n'));
	o.dir = "";
	CU_ASSERT(ots_spool_open(&b, &o, err, sizeof(err)) < 0);
}

static void test_foreign_files(void)
{
	char dir[300], p[400];
	newdir(dir, sizeof(dir));
	struct ots_spool *sp = open_dir(dir, 1 << 20, 0, OTS_FSYNC_NEVER);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
	CU_ASSERT_EQUAL(put(sp, 1), 0);
	ots_spool_close(sp);
	snprintf(p, sizeof(p), "%s/README", dir);
	write_file(p, "hello", 5);
	snprintf(p, sizeof(p), "%s/0000.seg", dir);
	write_file(p, "junk", 4);
	snprintf(p, sizeof(p), "%s/00000000000000ff.seg", dir); /* empty segment: deleted */
	write_file(p, "", 0);
	sp = open_dir(dir, 1 << 20, 0, OTS_FSYNC_NEVER);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
	CU_ASSERT_EQUAL(access(p, F_OK), -1);
	int idx[4];
	CU_ASSERT_EQUAL(drain(sp, idx, 4, 1), 1);
	CU_ASSERT_EQUAL(idx[0], 1);
	/* new segments are numbered after every existing one */
	CU_ASSERT_EQUAL(put(sp, 2), 0);
	snprintf(p, sizeof(p), "%s/0000000000000100.seg", dir);
	CU_ASSERT_EQUAL(access(p, F_OK), 0);
	ots_spool_close(sp);
}

/* A small spool file of 4 records; each damaged copy must lose exactly the record holding the damage. */
#define NCORR 4
static void build_pristine(char *dir, size_t dircap, uint8_t *img, size_t *len, size_t bounds[NCORR + 1])
{
	newdir(dir, dircap);
	struct ots_spool *sp = open_dir(dir, 1 << 20, 0, OTS_FSYNC_NEVER);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
	int ids[NCORR] = { 5, 0, 27, 3 }; /* values 5*37%900=185, 0, 99, 111 bytes */
	for (int i = 0; i < NCORR; i++)
		CU_ASSERT_EQUAL(put(sp, ids[i]), 0);
	ots_spool_close(sp);
	char path[400];
	CU_ASSERT_FATAL(seg_file(dir, path, sizeof(path)) == 0);
	*len = read_file(path, img, 4096);
	size_t off = 0;
	for (int i = 0; i < NCORR; i++) {
		bounds[i] = off;
		char key[16];
		off += OTS_SPOOL_HDR + (size_t)snprintf(key, sizeof(key), "k%d", ids[i]) + (size_t)((ids[i] * 37) % 900);
	}
	bounds[NCORR] = off;
	CU_ASSERT_EQUAL(off, *len);
}

static void test_corrupt_every_byte(void)
{
	char dir[300];
	uint8_t img[4096], bad[4096];
	size_t len, b[NCORR + 1];
	build_pristine(dir, sizeof(dir), img, &len, b);
	int ids[NCORR] = { 5, 0, 27, 3 };
	int failures = 0, reported = 0;
	for (size_t pos = 0; pos < len; pos++) {
		int hit = 0;
		while (!(pos >= b[hit] && pos < b[hit + 1]))
			hit++;
		char d[300], path[400];
		newdir(d, sizeof(d));
		mkdir(d, 0750);
		snprintf(path, sizeof(path), "%s/0000000000000000.seg", d);
		memcpy(bad, img, len);
		bad[pos] ^= 0x5a;
		write_file(path, bad, len);
		long lo = log_size();
		struct ots_spool *sp = open_dir(d, 1 << 20, 0, OTS_FSYNC_NEVER);
		if (!sp) {
			failures++;
			continue;
		}
		int idx[8];
		int n = drain(sp, idx, 8, 1);
		int ok = n == NCORR - 1;
		for (int i = 0, j = 0; ok && i < NCORR; i++) {
			if (i == hit)
				continue;
			ok = idx[j++] == ids[i];
		}
		struct ots_spool_stats st;
		ots_spool_stats(sp, &st);
		ok = ok && st.corrupt_regions >= 1 && st.records == 0;
		const char *lg = log_since(lo);
		if (strstr(lg, path) && strstr(lg, "offset") && strstr(lg, "skipped"))
			reported++;
		if (!ok) {
			failures++;
			fprintf(stderr, "\n  flip at %zu (record %d): got %d records\n", pos, hit, n);
		}
		ots_spool_close(sp);
		CU_ASSERT_EQUAL(count_segs(d), 0); /* consumed, so deleted */
	}
	CU_ASSERT_EQUAL(failures, 0);
	CU_ASSERT_EQUAL(reported, (int)len);
}

static void test_truncate_every_length(void)
{
	char dir[300];
	uint8_t img[4096];
	size_t len, b[NCORR + 1];
	build_pristine(dir, sizeof(dir), img, &len, b);
	int ids[NCORR] = { 5, 0, 27, 3 };
	int failures = 0, bad_reports = 0;
	for (size_t l = 0; l <= len; l++) {
		int whole = 0;
		while (whole < NCORR && b[whole + 1] <= l)
			whole++;
		int boundary = b[whole] == l;
		char d[300], path[400];
		newdir(d, sizeof(d));
		mkdir(d, 0750);
		snprintf(path, sizeof(path), "%s/0000000000000004.seg", d);
		write_file(path, img, l);
		long lo = log_size();
		struct ots_spool *sp = open_dir(d, 1 << 20, 0, OTS_FSYNC_NEVER);
		if (!sp) {
			failures++;
			continue;
		}
		int idx[8];
		int n = drain(sp, idx, 8, 1);
		int ok = n == whole;
		for (int i = 0; ok && i < whole; i++)
			ok = idx[i] == ids[i];
		const char *lg = log_since(lo);
		int rep = strstr(lg, path) != NULL;
		if (rep == boundary) /* a partial tail is reported, a clean cut is not */
			bad_reports++;
		if (!ok) {
			failures++;
			fprintf(stderr, "\n  truncated to %zu: got %d records, want %d\n", l, n, whole);
		}
		/* appends after a bad tail go to a new segment and are read after the good records */
		CU_ASSERT_EQUAL(put(sp, 77), 0);
		CU_ASSERT_EQUAL(drain(sp, idx, 8, 1), 1);
		CU_ASSERT_EQUAL(idx[0], 77);
		ots_spool_close(sp);
	}
	CU_ASSERT_EQUAL(failures, 0);
	CU_ASSERT_EQUAL(bad_reports, 0);
}

static void test_corrupt_middle_keeps_rest(void)
{
	/* garbage between good records (e.g. a torn write followed by more appends from an older version) */
	char d[300], path[400];
	newdir(d, sizeof(d));
	struct ots_spool *sp = open_dir(d, 1 << 20, 0, OTS_FSYNC_NEVER);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(put(sp, i), 0);
	ots_spool_close(sp);
	CU_ASSERT_FATAL(seg_file(d, path, sizeof(path)) == 0);
	uint8_t img[8192];
	size_t len = read_file(path, img, sizeof(img));
	uint8_t junk[333];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 13);
	memcpy(junk + 100, "OTS1", 4); /* a fake magic inside the junk */
	int fd = open(path, O_WRONLY | O_APPEND);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(write(fd, junk, sizeof(junk)) == (ssize_t)sizeof(junk));
	CU_ASSERT(write(fd, img, len) == (ssize_t)len); /* the same 3 records again after the junk */
	close(fd);
	long lo = log_size();
	sp = open_dir(d, 1 << 20, 0, OTS_FSYNC_NEVER);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
	int idx[8];
	CU_ASSERT_EQUAL(drain(sp, idx, 8, 1), 6);
	CU_ASSERT(idx[0] == 0 && idx[2] == 2 && idx[3] == 0 && idx[5] == 2);
	struct ots_spool_stats st;
	ots_spool_stats(sp, &st);
	CU_ASSERT_EQUAL(st.corrupt_regions, 1);
	CU_ASSERT_EQUAL(st.corrupt_bytes, sizeof(junk));
	char want[64];
	snprintf(want, sizeof(want), "offset %zu: skipped %zu bytes", len, sizeof(junk));
	CU_ASSERT_PTR_NOT_NULL(strstr(log_since(lo), want));
	ots_spool_close(sp);
}

static void test_damage_while_open(void)
{
	/* a record of a segment this process wrote is damaged under it: reported, skipped, counts stay right */
	char d[300], path[400];
	newdir(d, sizeof(d));
	struct ots_spool *sp = open_dir(d, 1 << 20, 0, OTS_FSYNC_NEVER);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(put(sp, i), 0);
	CU_ASSERT_FATAL(seg_file(d, path, sizeof(path)) == 0);
	int fd = open(path, O_WRONLY);
	CU_ASSERT_FATAL(fd >= 0);
	/* record 0 is 18 bytes (key "k0", empty value); 44 is inside record 1's value */
	CU_ASSERT(pwrite(fd, "XX", 2, 44) == 2);
	close(fd);
	long lo = log_size();
	int idx[8];
	CU_ASSERT_EQUAL(drain(sp, idx, 8, 1), 2);
	CU_ASSERT(idx[0] == 0 && idx[1] == 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(log_since(lo), "bad CRC"));
	CU_ASSERT_EQUAL(ots_spool_unread(sp), 0);
	struct ots_spool_stats st;
	ots_spool_stats(sp, &st);
	CU_ASSERT_EQUAL(st.records, 0);
	CU_ASSERT_EQUAL(count_segs(d), 0);
	ots_spool_close(sp);
}

static void test_write_error(void)
{
	char d[300];
	newdir(d, sizeof(d));
	struct ots_spool *sp = open_dir(d, 64 << 20, 0, OTS_FSYNC_NEVER);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
	CU_ASSERT_EQUAL(put(sp, 1), 0);
	/* a file size limit the log file stays under and the record does not */
	long lo = log_size();
	struct rlimit old, lim;
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = (rlim_t)lo + (64 << 10);
	size_t vl = (size_t)lim.rlim_cur + 1000;
	char *v = malloc(vl);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	memset(v, 'q', vl);
	signal(SIGXFSZ, SIG_IGN);
	CU_ASSERT_FATAL(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	int r = ots_spool_append(sp, 1, "big", 3, v, vl);
	setrlimit(RLIMIT_FSIZE, &old);
	free(v);
	CU_ASSERT_EQUAL(r, -EIO);
	CU_ASSERT_PTR_NOT_NULL(strstr(log_since(lo), "cannot write"));
	CU_ASSERT_EQUAL(put(sp, 2), 0); /* no partial record left in between */
	ots_spool_close(sp);
	sp = open_dir(d, 64 << 20, 0, OTS_FSYNC_NEVER);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sp);
	struct ots_spool_stats st;
	ots_spool_stats(sp, &st);
	CU_ASSERT_EQUAL(st.corrupt_regions, 0);
	int idx[4];
	CU_ASSERT_EQUAL(drain(sp, idx, 4, 1), 2);
	CU_ASSERT(idx[0] == 1 && idx[1] == 2);
	ots_spool_close(sp);
}

/* ---- runner --------------------------------------------------------------------------------------------- */

static int suite_init(void)
{
	return tmplog_open("spool", OTS_LOG_INFO);
}

static int suite_cleanup(void)
{
	return tmplog_close();
}

static const struct ots_test spool_tests[] = {
	{ "crc32c", test_crc32c },
	{ "append and iterate in order", test_append_iterate },
	{ "empty keys and values", test_empty_key_value },
	{ "acking everything deletes the files", test_ack_all_deletes },
	{ "consumed segments deleted progressively", test_segments_deleted_progressively },
	{ "reopen resumes after the acked records", test_reopen_resumes },
	{ "out-of-order acks survive a reopen", test_out_of_order_ack },
	{ "nack returns records first, in order", test_nack_order },
	{ "marks keep direct records in order", test_marks_order },
	{ "big records and size limits", test_big_records },
	{ "size cap", test_cap },
	{ "fsync modes", test_fsync_modes },
	{ "lock and bad directory", test_lock_and_bad_dir },
	{ "foreign files ignored", test_foreign_files },
	{ "a flipped byte at every offset", test_corrupt_every_byte },
	{ "truncation at every length", test_truncate_every_length },
	{ "garbage in the middle keeps the rest", test_corrupt_middle_keeps_rest },
	{ "damage under an open spool", test_damage_while_open },
	{ "write error leaves no partial record", test_write_error },
	{ NULL, NULL },
};

static const struct ots_suite suites[] = {
	{ "spool", spool_tests, suite_init, suite_cleanup },
	{ NULL, NULL, NULL, NULL },
};

int main(void)
{
	return ots_test_main("test_spool", suites);
}
