/* export/jsonw.h - a small streaming JSON writer into a caller buffer (no allocation).
 *
 * Contract: objects/arrays nest up to 16 deep; commas are placed automatically; strings are escaped per
 * RFC 8259 (control bytes as \u00XX, invalid UTF-8 bytes replaced by U+FFFD). When the buffer is too small the
 * writer stops writing and jw_ok() returns 0; nothing is ever written past cap.
 */
#ifndef OTS_JSONW_H
#define OTS_JSONW_H

#include <stddef.h>
#include <stdint.h>

struct jw {
	char *buf;
	size_t cap, len;
	int depth;
	int overflow;
	uint8_t first[16]; /* no element written yet at this depth */
};

void jw_init(struct jw *w, char *buf, size_t cap);
void jw_obj_open(struct jw *w, const char *key);   /* key NULL inside arrays / at top level */
void jw_obj_close(struct jw *w);
void jw_arr_open(struct jw *w, const char *key);
void jw_arr_close(struct jw *w);
void jw_str(struct jw *w, const char *key, const char *val);
void jw_strn(struct jw *w, const char *key, const char *val, size_t n);
void jw_u64(struct jw *w, const char *key, uint64_t v);
void jw_i64(struct jw *w, const char *key, int64_t v);
void jw_dbl(struct jw *w, const char *key, double v);
void jw_bool(struct jw *w, const char *key, int v);
static inline int jw_ok(const struct jw *w)
{
	return !w->overflow;
}

#endif
