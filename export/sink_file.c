/* export/sink_file.c - file sinks: JSON lines (file or stdout) and length-delimited protobuf (see sink.h).
 *
 * Both buffer through stdio (1 MiB) and flush at flush()/close(); a write error marks the sink unhealthy, is
 * logged once and counts every later record as failed (a full disk must not stop the sensor).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/log.h"
#include "export/sink.h"

struct file_sink {
	struct ots_sink base;
	FILE *f;
	int is_stdout;
	int broken;
	char *buf;
	char path[OTS_PATH_MAX];
	struct ots_sink_stats st;
};

static int file_write(struct file_sink *s, const void *a, size_t alen, const void *b, size_t blen)
{
	s->st.accepted++;
	if (s->broken) {
		s->st.failed++;
		return -EIO;
	}
	if ((alen && fwrite(a, 1, alen, s->f) != alen) || (blen && fwrite(b, 1, blen, s->f) != blen)) {
		int e = errno ? errno : EIO;
		s->broken = 1;
		s->st.failed++;
		s->st.healthy = 0;
		snprintf(s->st.state, sizeof(s->st.state), "write to %.70s failed: %.30s", s->path, strerror(e));
		OTS_ERR("export: %s; further records to it are counted as failed", s->st.state);
		return -e;
	}
	s->st.delivered++;
	return 0;
}

static int json_put(struct ots_sink *base, int type, const void *key, size_t klen, const void *val, size_t vlen)
{
	(void)type;
	(void)key;
	(void)klen;
	return file_write((struct file_sink *)base, val, vlen, "\n", 1);
}

static int pb_put(struct ots_sink *base, int type, const void *key, size_t klen, const void *val, size_t vlen)
{
	uint8_t v[10];
	size_t n = 0;
	uint64_t len = vlen;
	(void)type;
	(void)key;
	(void)klen;
	do { /* base-128 varint length prefix, as protobuf's writeDelimitedTo */
		v[n] = (uint8_t)(len & 0x7f);
		len >>= 7;
		if (len)
			v[n] |= 0x80;
		n++;
	} while (len);
	return file_write((struct file_sink *)base, v, n, val, vlen);
}

static int file_flush(struct ots_sink *base, int timeout_ms)
{
	struct file_sink *s = (struct file_sink *)base;
	(void)timeout_ms;
	if (!s->broken && fflush(s->f) != 0) {
		int e = errno;
		s->broken = 1;
		s->st.healthy = 0;
		snprintf(s->st.state, sizeof(s->st.state), "flush of %.70s failed: %.30s", s->path, strerror(e));
		OTS_ERR("export: %s", s->st.state);
		return -e;
	}
	return 0;
}

static void file_stats(struct ots_sink *base, struct ots_sink_stats *st)
{
	*st = ((struct file_sink *)base)->st;
}

static void file_close(struct ots_sink *base)
{
	struct file_sink *s = (struct file_sink *)base;
	file_flush(base, 0);
	if (!s->is_stdout)
		fclose(s->f);
	free(s->buf);
	free(s);
}

static const struct ots_sink_ops json_ops = { "json", OTS_SINK_JSON, json_put, NULL, file_flush, file_stats,
					      file_close };
static const struct ots_sink_ops pb_ops = { "protobuf_file", OTS_SINK_PB, pb_put, NULL, file_flush, file_stats,
					    file_close };

static struct ots_sink *file_open(const char *path, const struct ots_sink_ops *ops, const char *what, char *err,
				  size_t errlen)
{
	struct file_sink *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "export: out of memory");
		return NULL;
	}
	s->base.ops = ops;
	snprintf(s->path, sizeof(s->path), "%s", strcmp(path, "-") ? path : "stdout");
	s->is_stdout = !strcmp(path, "-");
	s->f = s->is_stdout ? stdout : fopen(path, ops->wants & OTS_SINK_PB ? "wb" : "w");
	if (!s->f) {
		int e = errno;
		snprintf(err, errlen, "%s '%s': %s; give a writable path", what, path, strerror(e));
		free(s);
		return NULL;
	}
	if (!s->is_stdout) { /* stdout keeps its own stdio buffer: it outlives this sink */
		s->buf = malloc(1 << 20);
		if (s->buf)
			setvbuf(s->f, s->buf, _IOFBF, 1 << 20);
	}
	s->st.healthy = 1;
	snprintf(s->st.state, sizeof(s->st.state), "ok, writing %.100s", s->path);
	return &s->base;
}

struct ots_sink *ots_sink_json_open(const char *path, char *err, size_t errlen)
{
	return file_open(path, &json_ops, "export.json", err, errlen);
}

struct ots_sink *ots_sink_pbfile_open(const char *path, char *err, size_t errlen)
{
	return file_open(path, &pb_ops, "export.protobuf_file", err, errlen);
}
