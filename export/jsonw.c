/* export/jsonw.c - streaming JSON writer (see jsonw.h). */
#include "export/jsonw.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void jw_init(struct jw *w, char *buf, size_t cap)
{
	memset(w, 0, sizeof(*w));
	w->buf = buf;
	w->cap = cap;
	w->first[0] = 1;
	if (cap)
		buf[0] = 0;
}

static void put(struct jw *w, const char *s, size_t n)
{
	if (w->overflow)
		return;
	if (w->len + n + 1 > w->cap) {
		w->overflow = 1;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = 0;
}

static void putc_(struct jw *w, char c)
{
	put(w, &c, 1);
}

static void putf(struct jw *w, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(w, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* length of the valid UTF-8 sequence at s, 0 when invalid (RFC 3629: no overlongs, no surrogates, <= U+10FFFF) */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t need = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
	if (!need || need > n || (need == 2 && c < 0xc2) || (need == 4 && c > 0xf4))
		return 0;
	for (size_t i = 1; i < need; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0) || (c == 0xf0 && s[1] < 0x90) ||
	    (c == 0xf4 && s[1] >= 0x90))
		return 0;
	return need;
}

static void put_string(struct jw *w, const char *s, size_t n)
{
	putc_(w, '"');
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		size_t run = i;
		while (run < n && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
			run++;
		if (run > i) { /* plain ASCII: copy the whole run at once */
			put(w, s + i, run - i);
			i = run;
			continue;
		}
		unsigned c = p[i];
		if (c == '"' || c == '\\') {
			putc_(w, '\\');
			putc_(w, (char)c);
			i++;
		} else if (c < 0x20) {
			switch (c) {
			case '\n': put(w, "\\n", 2); break;
			case '\r': put(w, "\\r", 2); break;
			case '\t': put(w, "\\t", 2); break;
			default: putf(w, "\\u%04x", c); break;
			}
			i++;
		} else if (c < 0x80) {
			putc_(w, (char)c);
			i++;
		} else {
			size_t k = utf8_len(p + i, n - i);
			if (k) {
				put(w, s + i, k);
				i += k;
			} else {
				put(w, "\xef\xbf\xbd", 3);
				i++;
			}
		}
	}
	putc_(w, '"');
}

static void sep(struct jw *w, const char *key)
{
	if (!w->first[w->depth])
		putc_(w, ',');
	w->first[w->depth] = 0;
	if (key) {
		put_string(w, key, strlen(key));
		putc_(w, ':');
	}
}

static void open_(struct jw *w, const char *key, char c)
{
	sep(w, key);
	putc_(w, c);
	if (w->depth < 15)
		w->depth++;
	else
		w->overflow = 1;
	w->first[w->depth] = 1;
}

static void close_(struct jw *w, char c)
{
	if (w->depth > 0)
		w->depth--;
	putc_(w, c);
}

void jw_obj_open(struct jw *w, const char *key) { open_(w, key, '{'); }
void jw_obj_close(struct jw *w) { close_(w, '}'); }
void jw_arr_open(struct jw *w, const char *key) { open_(w, key, '['); }
void jw_arr_close(struct jw *w) { close_(w, ']'); }

void jw_strn(struct jw *w, const char *key, const char *val, size_t n)
{
	sep(w, key);
	put_string(w, val, n);
}

void jw_str(struct jw *w, const char *key, const char *val)
{
	jw_strn(w, key, val ? val : "", val ? strlen(val) : 0);
}

void jw_u64(struct jw *w, const char *key, uint64_t v)
{
	char tmp[24];
	size_t n = sizeof(tmp);
	sep(w, key);
	do { /* by hand: this is the hottest number format in the exporter */
		tmp[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(w, tmp + n, sizeof(tmp) - n);
}

void jw_i64(struct jw *w, const char *key, int64_t v)
{
	sep(w, key);
	putf(w, "%" PRId64, v);
}

void jw_dbl(struct jw *w, const char *key, double v)
{
	sep(w, key);
	if (isfinite(v))
		putf(w, "%.15g", v);
	else
		put(w, "null", 4);
}

void jw_bool(struct jw *w, const char *key, int v)
{
	sep(w, key);
	put(w, v ? "true" : "false", v ? 4 : 5);
}
