/* export/spool.c - append-only on-disk spool (see spool.h). */
#include "export/spool.h"

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#ifdef __SSE4_2__
#include <nmmintrin.h>
#endif

#include "config/config.h"
#include "config/log.h"
#include "export/util.h"

#define REC_MAGIC 0x3153544fu /* "OTS1" */
#define ST_PENDING 0x00u
#define ST_DONE 0xa5u
#define READ_CHUNK (256u << 10)

/* ------------------------------------------------------------------ CRC32C */

static uint32_t crc_tab[8][256];
static int crc_tab_ready;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1u)));
		crc_tab[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc_tab[t][i] = (crc_tab[t - 1][i] >> 8) ^ crc_tab[0][crc_tab[t - 1][i] & 0xff];
	__atomic_store_n(&crc_tab_ready, 1, __ATOMIC_RELEASE);
}

uint32_t ots_crc32c_sw(uint32_t crc, const void *p, size_t n)
{
	if (!__atomic_load_n(&crc_tab_ready, __ATOMIC_ACQUIRE))
		crc_init(); /* idempotent: a race computes the same table twice */
	const uint8_t *b = p;
	crc = ~crc;
	while (n >= 8) {
		uint64_t v;
		memcpy(&v, b, 8);
		v ^= crc;
		crc = crc_tab[7][v & 0xff] ^ crc_tab[6][(v >> 8) & 0xff] ^ crc_tab[5][(v >> 16) & 0xff] ^
		      crc_tab[4][(v >> 24) & 0xff] ^ crc_tab[3][(v >> 32) & 0xff] ^ crc_tab[2][(v >> 40) & 0xff] ^
		      crc_tab[1][(v >> 48) & 0xff] ^ crc_tab[0][v >> 56];
		b += 8;
		n -= 8;
	}
	while (n--)
		crc = (crc >> 8) ^ crc_tab[0][(crc ^ *b++) & 0xff];
	return ~crc;
}

uint32_t ots_crc32c(uint32_t crc, const void *p, size_t n)
{
#ifdef __SSE4_2__
	const uint8_t *b = p;
	uint64_t c = (uint32_t)~crc;
	while (n >= 8) {
		uint64_t v;
		memcpy(&v, b, 8);
		c = _mm_crc32_u64(c, v);
		b += 8;
		n -= 8;
	}
	uint32_t c32 = (uint32_t)c;
	while (n--)
		c32 = _mm_crc32_u8(c32, *b++);
	return ~c32;
#else
	return ots_crc32c_sw(crc, p, n);
#endif
}

/* ------------------------------------------------------------------ state */

struct seg {
	uint64_t no;
	int fd;
	uint8_t old;      /* existed at open: scanned, its corruption already reported */
	uint8_t dirty;    /* written since the last fdatasync */
	uint64_t size;    /* file size: every byte we wrote or found */
	uint64_t rd;      /* next unread offset */
	uint64_t pending; /* records not done: unread + handed out */
	uint64_t inflight;/* handed out (window entries INFLIGHT or RETRY) */
};

enum { W_INFLIGHT = 1, W_RETRY, W_DONE };

struct went {
	uint64_t segno;
	uint64_t off;
	uint32_t len; /* header + payload */
	uint8_t state;
};

struct ots_spool {
	char dir[PATH_MAX];
	int dirfd, lockfd;
	uint64_t max_bytes, seg_bytes;
	int fsync_mode, readonly;
	uint64_t fsync_ns, last_sync_ns;
	int dir_dirty;

	struct seg *segs; /* sorted by no */
	size_t nsegs, capsegs;
	uint64_t write_no; /* even; the segment normal appends go to */
	int marked;        /* a mark was handed out since the write segment was chosen */

	uint64_t bytes, pending, inflight, appended, corrupt_regions, corrupt_bytes;

	struct went *win; /* handed-out records, in ticket order; ring */
	size_t wcap, whead, wcount;
	uint64_t head_ticket;
	uint64_t retry, retry_hint;

	uint8_t *buf; /* read buffer: [boff, boff+blen) of segment bseg */
	size_t bcap, blen;
	uint64_t bseg, boff;
	int write_err_logged;
};

static inline uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return le32toh(v);
}
static inline uint16_t rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return le16toh(v);
}

static void seg_path(const struct ots_spool *sp, uint64_t no, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/%016" PRIx64 ".seg", sp->dir, no);
}

static size_t seg_find(const struct ots_spool *sp, uint64_t no, int *found)
{
	size_t lo = 0, hi = sp->nsegs;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (sp->segs[mid].no < no)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < sp->nsegs && sp->segs[lo].no == no;
	return lo;
}

static struct seg *seg_get(struct ots_spool *sp, uint64_t no)
{
	int found;
	size_t i = seg_find(sp, no, &found);
	return found ? &sp->segs[i] : NULL;
}

static struct seg *seg_insert(struct ots_spool *sp, uint64_t no, int fd)
{
	int found;
	size_t i = seg_find(sp, no, &found);
	if (found)
		return &sp->segs[i];
	if (sp->nsegs == sp->capsegs) {
		size_t nc = sp->capsegs ? sp->capsegs * 2 : 16;
		struct seg *n = realloc(sp->segs, nc * sizeof(*n));
		if (!n)
			return NULL;
		sp->segs = n;
		sp->capsegs = nc;
	}
	memmove(&sp->segs[i + 1], &sp->segs[i], (sp->nsegs - i) * sizeof(*sp->segs));
	sp->nsegs++;
	memset(&sp->segs[i], 0, sizeof(sp->segs[i]));
	sp->segs[i].no = no;
	sp->segs[i].fd = fd;
	return &sp->segs[i];
}

/* ------------------------------------------------------------------ reading */

/* pointer to [off, off+len) of segment s, or NULL when the file is shorter or unreadable */
static const uint8_t *view(struct ots_spool *sp, struct seg *s, uint64_t off, size_t len)
{
	if (off > s->size || len > s->size - off)
		return NULL;
	if (sp->bseg == s->no && off >= sp->boff && off + len <= sp->boff + sp->blen)
		return sp->buf + (off - sp->boff);
	size_t want = len > READ_CHUNK ? len : READ_CHUNK;
	if (want > s->size - off)
		want = (size_t)(s->size - off);
	if (want > sp->bcap) {
		uint8_t *n = realloc(sp->buf, want);
		if (!n)
			return NULL;
		sp->buf = n;
		sp->bcap = want;
	}
	sp->bseg = UINT64_MAX;
	size_t got = 0;
	while (got < want) {
		ssize_t r = pread(s->fd, sp->buf + got, want - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (got < len)
		return NULL;
	sp->bseg = s->no;
	sp->boff = off;
	sp->blen = got;
	return sp->buf;
}

struct rinfo {
	uint32_t len; /* payload */
	uint8_t state, type;
	uint16_t klen;
	const uint8_t *p; /* whole record, valid until the next view() */
};

/* NULL when the record at off is sound, else why not */
static const char *rec_check(struct ots_spool *sp, struct seg *s, uint64_t off, struct rinfo *ri)
{
	if (s->size - off < OTS_SPOOL_HDR)
		return "truncated record header";
	const uint8_t *p = view(sp, s, off, OTS_SPOOL_HDR);
	if (!p)
		return "unreadable";
	if (rd32(p) != REC_MAGIC)
		return "bad magic";
	uint32_t len = rd32(p + 4);
	if (len > OTS_SPOOL_MAX_RECORD)
		return "bad length";
	if ((uint64_t)OTS_SPOOL_HDR + len > s->size - off)
		return "record runs past the end of the file (truncated write?)";
	uint8_t state = p[12];
	uint16_t klen = rd16(p + 14);
	uint32_t crc = rd32(p + 8);
	if (klen > len)
		return "bad key length";
	p = view(sp, s, off, OTS_SPOOL_HDR + len);
	if (!p)
		return "unreadable";
	uint32_t c = ots_crc32c(0, p + 4, 4);
	c = ots_crc32c(c, p + 13, 3);
	c = ots_crc32c(c, p + OTS_SPOOL_HDR, len);
	if (c != crc)
		return "bad CRC";
	if (state != ST_PENDING && state != ST_DONE)
		return "bad state byte";
	ri->len = len;
	ri->state = state;
	ri->type = p[13];
	ri->klen = klen;
	ri->p = p;
	return NULL;
}

/* first offset after `from` where a sound record starts, or the segment size */
static uint64_t resync(struct ots_spool *sp, struct seg *s, uint64_t from)
{
	static const uint8_t magic[4] = { 'O', 'T', 'S', '1' };
	uint64_t pos = from + 1;
	while (pos + OTS_SPOOL_HDR <= s->size) {
		size_t n = s->size - pos > READ_CHUNK ? READ_CHUNK : (size_t)(s->size - pos);
		const uint8_t *p = view(sp, s, pos, n);
		if (!p)
			return s->size;
		const uint8_t *h = memmem(p, n, magic, 4);
		if (!h) {
			pos += n > 3 ? n - 3 : 1;
			continue;
		}
		uint64_t cand = pos + (uint64_t)(h - p);
		struct rinfo ri;
		if (!rec_check(sp, s, cand, &ri))
			return cand;
		pos = cand + 1;
	}
	return s->size;
}

static void report_bad(struct ots_spool *sp, struct seg *s, uint64_t off, uint64_t skip, const char *why)
{
	char path[PATH_MAX + 32];
	seg_path(sp, s->no, path, sizeof(path));
	sp->corrupt_regions++;
	sp->corrupt_bytes += skip;
	OTS_WARN("spool: %s: %s at offset %" PRIu64 ": skipped %" PRIu64 " bytes%s", path, why, off, skip,
		 off + skip >= s->size ? " (to the end of the file)" : "; the records after them are kept");
}

/* ------------------------------------------------------------------ files */

static void sync_now(struct ots_spool *sp)
{
	for (size_t i = 0; i < sp->nsegs; i++)
		if (sp->segs[i].dirty) {
			if (fdatasync(sp->segs[i].fd) < 0 && !sp->write_err_logged) {
				sp->write_err_logged = 1;
				OTS_ERR("spool: fdatasync in %s: %s", sp->dir, strerror(errno));
			}
			sp->segs[i].dirty = 0;
		}
	if (sp->dir_dirty) {
		fsync(sp->dirfd);
		sp->dir_dirty = 0;
	}
	sp->last_sync_ns = ots_mono_ns();
}

static void seg_remove_at(struct ots_spool *sp, size_t i)
{
	struct seg *s = &sp->segs[i];
	char path[PATH_MAX + 32];
	seg_path(sp, s->no, path, sizeof(path));
	if (!sp->readonly && unlink(path) < 0 && errno != ENOENT)
		OTS_WARN("spool: cannot delete the consumed segment %s: %s", path, strerror(errno));
	close(s->fd);
	if (sp->bseg == s->no)
		sp->bseg = UINT64_MAX;
	sp->bytes -= s->size;
	if (s->no == sp->write_no) {
		sp->write_no += 2; /* later appends go after anything already marked */
		sp->marked = 0;
	}
	memmove(&sp->segs[i], &sp->segs[i + 1], (sp->nsegs - i - 1) * sizeof(*sp->segs));
	sp->nsegs--;
	sp->dir_dirty = 1;
}

/* delete a segment once everything in it is done and read */
static void seg_maybe_remove(struct ots_spool *sp, uint64_t no)
{
	int found;
	size_t i = seg_find(sp, no, &found);
	if (!found)
		return;
	struct seg *s = &sp->segs[i];
	if (s->rd >= s->size && s->pending == 0)
		seg_remove_at(sp, i);
}

static struct seg *seg_create(struct ots_spool *sp, uint64_t no)
{
	struct seg *s = seg_get(sp, no);
	if (s)
		return s;
	char path[PATH_MAX + 32];
	seg_path(sp, no, path, sizeof(path));
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0)
		return NULL;
	s = seg_insert(sp, no, fd);
	if (!s) {
		close(fd);
		unlink(path);
		errno = ENOMEM;
		return NULL;
	}
	sp->dir_dirty = 1;
	if (sp->fsync_mode == OTS_FSYNC_ALWAYS) {
		fsync(sp->dirfd);
		sp->dir_dirty = 0;
	}
	return s;
}

/* ------------------------------------------------------------------ open / close */

static int mkdir_p(const char *dir)
{
	char tmp[PATH_MAX];
	size_t n = strlen(dir);
	if (n == 0 || n >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, dir, n + 1);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			if (mkdir(tmp, 0750) < 0 && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	if (mkdir(tmp, 0750) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int parse_seg_name(const char *name, uint64_t *no)
{
	if (strlen(name) != 20 || strcmp(name + 16, ".seg") != 0)
		return 0;
	uint64_t v = 0;
	for (int i = 0; i < 16; i++) {
		char c = name[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (d < 0)
			return 0;
		v = v << 4 | (uint64_t)d;
	}
	*no = v;
	return 1;
}

static void scan_segment(struct ots_spool *sp, struct seg *s)
{
	uint64_t off = 0;
	while (off < s->size) {
		struct rinfo ri;
		const char *why = rec_check(sp, s, off, &ri);
		if (why) {
			uint64_t nxt = resync(sp, s, off);
			report_bad(sp, s, off, nxt - off, why);
			off = nxt;
			continue;
		}
		if (ri.state == ST_PENDING)
			s->pending++;
		off += OTS_SPOOL_HDR + ri.len;
	}
}

int ots_spool_open(struct ots_spool **out, const struct ots_spool_opts *o, char *err, size_t errlen)
{
	*out = NULL;
	if (!o->dir || !o->dir[0]) {
		ots_seterr(err, errlen, "spool: no directory given (export.spool.dir)");
		return -EINVAL;
	}
	struct ots_spool *sp = calloc(1, sizeof(*sp));
	if (!sp)
		return -ENOMEM;
	sp->dirfd = sp->lockfd = -1;
	sp->bseg = UINT64_MAX;
	snprintf(sp->dir, sizeof(sp->dir), "%s", o->dir);
	size_t dl = strlen(sp->dir);
	while (dl > 1 && sp->dir[dl - 1] == '/')
		sp->dir[--dl] = 0;
	sp->max_bytes = o->max_bytes ? o->max_bytes : UINT64_MAX;
	sp->seg_bytes = o->segment_bytes;
	if (!sp->seg_bytes) {
		sp->seg_bytes = sp->max_bytes / 16;
		if (sp->seg_bytes < (64u << 10))
			sp->seg_bytes = 64u << 10;
		if (sp->seg_bytes > (64u << 20))
			sp->seg_bytes = 64u << 20;
	}
	sp->fsync_mode = o->readonly ? OTS_FSYNC_NEVER : o->fsync_mode;
	sp->readonly = o->readonly;
	sp->fsync_ns = (uint64_t)(o->fsync_ms ? o->fsync_ms : 1000) * 1000000ull;
	sp->last_sync_ns = ots_mono_ns();

	int r = sp->readonly ? 0 : mkdir_p(sp->dir);
	if (r < 0) {
		ots_seterr(err, errlen, "spool: cannot create the directory %s: %s (export.spool.dir)", sp->dir,
		       strerror(-r));
		goto fail;
	}
	sp->dirfd = open(sp->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sp->dirfd < 0) {
		r = -errno;
		ots_seterr(err, errlen, "spool: cannot open the directory %s: %s (export.spool.dir)", sp->dir,
		       strerror(-r));
		goto fail;
	}
	char lpath[PATH_MAX + 16];
	if (sp->readonly)
		goto list;
	snprintf(lpath, sizeof(lpath), "%s/.lock", sp->dir);
	sp->lockfd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (sp->lockfd < 0) {
		r = -errno;
		ots_seterr(err, errlen, "spool: directory %s is not writable: %s (export.spool.dir)", sp->dir,
		       strerror(-r));
		goto fail;
	}
	if (flock(sp->lockfd, LOCK_EX | LOCK_NB) < 0) {
		r = errno == EWOULDBLOCK ? -EBUSY : -errno;
		ots_seterr(err, errlen,
		       "spool: directory %s is in use by another otsense process; give each sensor its own "
		       "export.spool.dir",
		       sp->dir);
		goto fail;
	}
	if (access(sp->dir, W_OK) < 0) {
		r = -errno;
		ots_seterr(err, errlen, "spool: directory %s is not writable: %s (export.spool.dir)", sp->dir,
		       strerror(-r));
		goto fail;
	}

list:;
	DIR *d = fdopendir(dup(sp->dirfd));
	if (!d) {
		r = -errno;
		ots_seterr(err, errlen, "spool: cannot list %s: %s", sp->dir, strerror(-r));
		goto fail;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		uint64_t no;
		if (!parse_seg_name(de->d_name, &no))
			continue;
		int fd = openat(sp->dirfd, de->d_name, (sp->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			r = fd < 0 ? -errno : -EINVAL;
			ots_seterr(err, errlen, "spool: cannot open %s/%s: %s", sp->dir, de->d_name,
			       fd < 0 ? strerror(-r) : "not a regular file");
			if (fd >= 0)
				close(fd);
			closedir(d);
			goto fail;
		}
		struct seg *s = seg_insert(sp, no, fd);
		if (!s) {
			close(fd);
			closedir(d);
			r = -ENOMEM;
			goto fail;
		}
		s->size = (uint64_t)st.st_size;
		s->old = 1;
	}
	closedir(d);

	uint64_t maxno = 0;
	for (size_t i = 0; i < sp->nsegs;) {
		struct seg *s = &sp->segs[i];
		maxno = s->no > maxno ? s->no : maxno;
		sp->bytes += s->size;
		scan_segment(sp, s);
		sp->pending += s->pending;
		if (s->pending == 0) {
			s->rd = s->size;
			seg_remove_at(sp, i); /* empty or fully delivered */
			continue;
		}
		i++;
	}
	sp->write_no = sp->nsegs || maxno ? (maxno + 2) & ~1ull : 0;
	if (sp->dir_dirty && sp->fsync_mode != OTS_FSYNC_NEVER)
		sync_now(sp);
	*out = sp;
	return 0;
fail:
	ots_spool_close(sp);
	return r < 0 ? r : -EIO;
}

void ots_spool_close(struct ots_spool *sp)
{
	if (!sp)
		return;
	if (sp->fsync_mode != OTS_FSYNC_NEVER)
		sync_now(sp);
	for (size_t i = 0; i < sp->nsegs; i++)
		close(sp->segs[i].fd);
	if (sp->dirfd >= 0)
		close(sp->dirfd);
	if (sp->lockfd >= 0)
		close(sp->lockfd); /* releases the flock */
	free(sp->segs);
	free(sp->win);
	free(sp->buf);
	free(sp);
}

/* ------------------------------------------------------------------ writing */

static int append_to(struct ots_spool *sp, struct seg *s, int type, const void *key, size_t klen, const void *val,
		     size_t vlen)
{
	uint8_t h[OTS_SPOOL_HDR];
	uint32_t len = (uint32_t)(klen + vlen);
	uint32_t v32 = htole32(REC_MAGIC);
	memcpy(h, &v32, 4);
	v32 = htole32(len);
	memcpy(h + 4, &v32, 4);
	h[12] = ST_PENDING;
	h[13] = (uint8_t)type;
	uint16_t k16 = htole16((uint16_t)klen);
	memcpy(h + 14, &k16, 2);
	uint32_t c = ots_crc32c(0, h + 4, 4);
	c = ots_crc32c(c, h + 13, 3);
	c = ots_crc32c(c, key, klen);
	c = ots_crc32c(c, val, vlen);
	v32 = htole32(c);
	memcpy(h + 8, &v32, 4);

	struct iovec iov[3] = { { h, sizeof(h) }, { (void *)key, klen }, { (void *)val, vlen } };
	size_t total = sizeof(h) + klen + vlen, done = 0;
	int niov = 3, first = 0;
	while (done < total) {
		ssize_t w = pwritev(s->fd, iov + first, niov - first, (off_t)(s->size + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;
			if (ftruncate(s->fd, (off_t)s->size) < 0) { /* leave no partial record behind */
			}
			if (!sp->write_err_logged) {
				sp->write_err_logged = 1;
				char path[PATH_MAX + 32];
				seg_path(sp, s->no, path, sizeof(path));
				OTS_ERR("spool: cannot write %s: %s; records that need the spool are dropped until "
					"it works again",
					path, strerror(e));
			}
			return -EIO; /* -ENOSPC means the configured cap */
		}
		done += (size_t)w;
		size_t adv = (size_t)w;
		while (first < niov && adv >= iov[first].iov_len) {
			adv -= iov[first].iov_len;
			first++;
		}
		if (first < niov) {
			iov[first].iov_base = (uint8_t *)iov[first].iov_base + adv;
			iov[first].iov_len -= adv;
		}
	}
	sp->write_err_logged = 0;
	s->size += total;
	s->pending++;
	s->dirty = 1;
	sp->pending++;
	sp->bytes += total;
	sp->appended++;
	if (sp->fsync_mode == OTS_FSYNC_ALWAYS) {
		fdatasync(s->fd);
		s->dirty = 0;
		if (sp->dir_dirty) {
			fsync(sp->dirfd);
			sp->dir_dirty = 0;
		}
	} else if (sp->fsync_mode == OTS_FSYNC_INTERVAL && ots_mono_ns() - sp->last_sync_ns >= sp->fsync_ns) {
		sync_now(sp);
	}
	return 0;
}

static int check_size(struct ots_spool *sp, size_t klen, size_t vlen)
{
	if (klen > 0xffff || klen + vlen > OTS_SPOOL_MAX_RECORD)
		return -EMSGSIZE;
	if (sp->bytes + OTS_SPOOL_HDR + klen + vlen > sp->max_bytes)
		return -ENOSPC;
	return 0;
}

int ots_spool_append(struct ots_spool *sp, int type, const void *key, size_t klen, const void *val, size_t vlen)
{
	if (sp->readonly)
		return -EROFS;
	int r = check_size(sp, klen, vlen);
	if (r < 0)
		return r;
	struct seg *s = seg_get(sp, sp->write_no);
	uint64_t rec = OTS_SPOOL_HDR + klen + vlen;
	if (sp->marked || (s && s->size > 0 && s->size + rec > sp->seg_bytes)) {
		sp->write_no += 2;
		sp->marked = 0;
		s = NULL;
	}
	if (!s && !(s = seg_create(sp, sp->write_no))) {
		r = -errno;
		if (!sp->write_err_logged) {
			sp->write_err_logged = 1;
			OTS_ERR("spool: cannot create a segment in %s: %s", sp->dir, strerror(-r));
		}
		return -EIO;
	}
	return append_to(sp, s, type, key ? key : "", klen, val ? val : "", vlen);
}

uint64_t ots_spool_mark(struct ots_spool *sp)
{
	sp->marked = 1;
	return sp->write_no + 1;
}

int ots_spool_append_at(struct ots_spool *sp, uint64_t mark, int type, const void *key, size_t klen,
			const void *val, size_t vlen)
{
	if (sp->readonly)
		return -EROFS;
	if (!(mark & 1))
		return -EINVAL;
	int r = check_size(sp, klen, vlen);
	if (r < 0)
		return r;
	struct seg *s = seg_get(sp, mark);
	if (!s && !(s = seg_create(sp, mark))) {
		r = -errno;
		if (!sp->write_err_logged) {
			sp->write_err_logged = 1;
			OTS_ERR("spool: cannot create a segment in %s: %s", sp->dir, strerror(-r));
		}
		return -EIO;
	}
	return append_to(sp, s, type, key ? key : "", klen, val ? val : "", vlen);
}

/* ------------------------------------------------------------------ read window */

static struct went *win_get(struct ots_spool *sp, uint64_t ticket)
{
	if (ticket < sp->head_ticket || ticket - sp->head_ticket >= sp->wcount)
		return NULL;
	return &sp->win[(sp->whead + (ticket - sp->head_ticket)) & (sp->wcap - 1)];
}

static int win_push(struct ots_spool *sp, const struct went *e, uint64_t *ticket)
{
	if (sp->wcount == sp->wcap) {
		size_t nc = sp->wcap ? sp->wcap * 2 : 1024;
		struct went *n = malloc(nc * sizeof(*n));
		if (!n)
			return -ENOMEM;
		for (size_t i = 0; i < sp->wcount; i++)
			n[i] = sp->win[(sp->whead + i) & (sp->wcap - 1)];
		free(sp->win);
		sp->win = n;
		sp->wcap = nc;
		sp->whead = 0;
	}
	sp->win[(sp->whead + sp->wcount) & (sp->wcap - 1)] = *e;
	*ticket = sp->head_ticket + sp->wcount;
	sp->wcount++;
	return 0;
}

static void win_pop_done(struct ots_spool *sp)
{
	while (sp->wcount && sp->win[sp->whead].state == W_DONE) {
		sp->whead = (sp->whead + 1) & (sp->wcap - 1);
		sp->wcount--;
		sp->head_ticket++;
	}
	if (sp->retry_hint < sp->head_ticket)
		sp->retry_hint = sp->head_ticket;
}

static void fill_rec(struct ots_spool_rec *r, uint64_t ticket, const struct rinfo *ri)
{
	r->ticket = ticket;
	r->type = ri->type;
	r->key = ri->p + OTS_SPOOL_HDR;
	r->klen = ri->klen;
	r->val = ri->p + OTS_SPOOL_HDR + ri->klen;
	r->vlen = ri->len - ri->klen;
}

static int next_retry(struct ots_spool *sp, struct ots_spool_rec *r)
{
	for (uint64_t t = sp->retry_hint; t < sp->head_ticket + sp->wcount; t++) {
		struct went *e = win_get(sp, t);
		if (e->state != W_RETRY)
			continue;
		sp->retry_hint = t + 1;
		struct seg *s = seg_get(sp, e->segno);
		struct rinfo ri;
		const char *why = s ? rec_check(sp, s, e->off, &ri) : "segment gone";
		sp->retry--;
		if (why) { /* it verified when first read: the file changed under us */
			if (s)
				report_bad(sp, s, e->off, e->len, why);
			e->state = W_DONE;
			if (s) {
				s->pending--;
				s->inflight--;
			}
			sp->pending--;
			win_pop_done(sp);
			if (s)
				seg_maybe_remove(sp, s->no);
			return -EIO;
		}
		e->state = W_INFLIGHT;
		sp->inflight++;
		fill_rec(r, t, &ri);
		return 1;
	}
	sp->retry = 0; /* not reached: counts and states agree */
	return 0;
}

int ots_spool_next(struct ots_spool *sp, struct ots_spool_rec *r)
{
	if (sp->retry) {
		int rr;
		while ((rr = next_retry(sp, r)) == -EIO && sp->retry)
			;
		if (rr == 1)
			return 1;
	}
	for (size_t i = 0; i < sp->nsegs;) {
		struct seg *s = &sp->segs[i];
		while (s->rd < s->size) {
			struct rinfo ri;
			const char *why = rec_check(sp, s, s->rd, &ri);
			if (why) {
				uint64_t nxt = resync(sp, s, s->rd);
				if (!s->old) /* old segments were reported by the scan at open */
					report_bad(sp, s, s->rd, nxt - s->rd, why);
				s->rd = nxt;
				continue;
			}
			uint64_t off = s->rd;
			s->rd += OTS_SPOOL_HDR + ri.len;
			if (ri.state == ST_DONE)
				continue;
			struct went e = { s->no, off, OTS_SPOOL_HDR + ri.len, W_INFLIGHT };
			uint64_t t;
			if (win_push(sp, &e, &t) < 0) {
				s->rd = off;
				return -ENOMEM;
			}
			s->inflight++;
			sp->inflight++;
			fill_rec(r, t, &ri);
			return 1;
		}
		/* fully read: records lost to corruption are no longer pending */
		if (s->pending > s->inflight) {
			sp->pending -= s->pending - s->inflight;
			s->pending = s->inflight;
		}
		if (s->pending == 0) {
			seg_remove_at(sp, i);
			continue;
		}
		i++;
	}
	return 0;
}

void ots_spool_ack(struct ots_spool *sp, uint64_t ticket)
{
	struct went *e = win_get(sp, ticket);
	if (!e || e->state == W_DONE)
		return;
	struct seg *s = seg_get(sp, e->segno);
	if (e->state == W_INFLIGHT)
		sp->inflight--;
	else
		sp->retry--;
	e->state = W_DONE;
	sp->pending--;
	if (s) {
		s->pending--;
		s->inflight--;
		if (sp->readonly) {
			/* inspection: nothing is written */
		} else if (s->pending == 0 && s->rd >= s->size) {
			seg_maybe_remove(sp, s->no); /* the whole file goes: no need to mark the record */
		} else {
			static const uint8_t done = ST_DONE;
			if (pwrite(s->fd, &done, 1, (off_t)(e->off + 12)) != 1 && !sp->write_err_logged) {
				sp->write_err_logged = 1;
				OTS_ERR("spool: cannot mark a delivered record in %s: %s; it may be sent again after a "
					"restart",
					sp->dir, strerror(errno));
			}
			s->dirty = 1;
			if (sp->bseg == s->no && e->off + 12 >= sp->boff && e->off + 12 < sp->boff + sp->blen)
				sp->buf[e->off + 12 - sp->boff] = ST_DONE;
		}
	}
	win_pop_done(sp);
}

void ots_spool_nack(struct ots_spool *sp, uint64_t ticket)
{
	struct went *e = win_get(sp, ticket);
	if (!e || e->state != W_INFLIGHT)
		return;
	e->state = W_RETRY;
	sp->inflight--;
	sp->retry++;
	if (ticket < sp->retry_hint)
		sp->retry_hint = ticket;
}

/* ------------------------------------------------------------------ misc */

void ots_spool_tick(struct ots_spool *sp)
{
	if (sp->fsync_mode == OTS_FSYNC_ALWAYS ||
	    (sp->fsync_mode == OTS_FSYNC_INTERVAL && ots_mono_ns() - sp->last_sync_ns >= sp->fsync_ns)) {
		int dirty = sp->dir_dirty;
		for (size_t i = 0; i < sp->nsegs && !dirty; i++)
			dirty = sp->segs[i].dirty;
		if (dirty)
			sync_now(sp);
		else
			sp->last_sync_ns = ots_mono_ns();
	}
}

void ots_spool_sync(struct ots_spool *sp)
{
	sync_now(sp);
}

void ots_spool_stats(const struct ots_spool *sp, struct ots_spool_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->bytes = sp->bytes;
	st->records = sp->pending;
	st->inflight = sp->inflight;
	st->unread = sp->pending - sp->inflight;
	st->segments = sp->nsegs;
	st->appended = sp->appended;
	st->corrupt_regions = sp->corrupt_regions;
	st->corrupt_bytes = sp->corrupt_bytes;
}

uint64_t ots_spool_unread(const struct ots_spool *sp)
{
	return sp->pending - sp->inflight;
}

const char *ots_spool_dir(const struct ots_spool *sp)
{
	return sp->dir;
}
