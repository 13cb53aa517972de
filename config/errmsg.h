/* config/errmsg.h - the one helper every module uses to fill its caller's error buffer (core library: config,
 * export and detect all include it). Modules return 0/-errno and say why in err; only main prints and exits. */
#ifndef OTS_ERRMSG_H
#define OTS_ERRMSG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* an error message into err (errlen bytes, truncated); nothing when err is NULL or errlen 0 */
static inline void ots_seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static inline void ots_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

#endif
