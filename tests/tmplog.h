/* tests/tmplog.h - a scratch directory for a test binary, with the log written into it.
 *
 * tmplog_open(name, level) in the suite's init makes tmproot (/tmp/ots_test_<name>.XXXXXX) and opens the log at
 * logpath inside it; tmplog_close() in its cleanup closes the log and removes the directory (kept, and named on
 * stderr, when OTS_KEEP_TMP is set). What a test made the code log: off = log_size() before, log_since(off) after.
 */
#ifndef OTS_TEST_TMPLOG_H
#define OTS_TEST_TMPLOG_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "config/log.h"

static char tmproot[256], logpath[300];

static inline int tmplog_open(const char *name, int level)
{
	snprintf(tmproot, sizeof(tmproot), "/tmp/ots_test_%s.XXXXXX", name);
	if (!mkdtemp(tmproot))
		return -1;
	snprintf(logpath, sizeof(logpath), "%s/log", tmproot);
	char err[256];
	return ots_log_open(level, logpath, err, sizeof(err)) < 0 ? -1 : 0;
}

static inline int tmplog_close(void)
{
	ots_log_close();
	if (getenv("OTS_KEEP_TMP")) {
		fprintf(stderr, "kept %s\n", tmproot);
		return 0;
	}
	char cmd[320];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmproot);
	return system(cmd) != 0 ? -1 : 0;
}

static inline long log_size(void)
{
	fflush(ots_log_stream());
	struct stat st;
	return stat(logpath, &st) == 0 ? (long)st.st_size : 0;
}

static inline const char *log_since(long off)
{
	fflush(ots_log_stream());
	static char buf[1 << 18];
	buf[0] = 0;
	FILE *f = fopen(logpath, "r");
	if (!f)
		return buf;
	fseek(f, off, SEEK_SET);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

#endif
