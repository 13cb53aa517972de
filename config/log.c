/* config/log.c - leveled logging (see log.h). */
#include "config/log.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

static int log_level = OTS_LOG_INFO;
static FILE *log_out;

static const char *const level_names[] = { "error", "warning", "info", "debug" };

int ots_log_open(int level, const char *file, char *err, size_t errlen)
{
	log_level = level;
	if (file && file[0] && strcmp(file, "-") != 0) {
		FILE *f = fopen(file, "a");
		if (!f) {
			int e = errno;
			snprintf(err, errlen, "log.file '%s': %s; give a writable path or '-' for stderr", file,
				 strerror(e));
			return -e;
		}
		setvbuf(f, NULL, _IOLBF, 0);
		log_out = f;
	}
	return 0;
}

void ots_log_close(void)
{
	if (log_out && log_out != stderr)
		fclose(log_out);
	log_out = NULL;
}

FILE *ots_log_stream(void)
{
	return log_out ? log_out : stderr;
}

void ots_log(int level, const char *fmt, ...)
{
	if (level > log_level)
		return;
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	FILE *out = ots_log_stream();
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(out, "%s otsense %s: %s\n", ts, level_names[level < 0 ? 0 : level > 3 ? 3 : level], msg);
}
