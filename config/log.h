/* config/log.h - leveled log lines to stderr or the configured file.
 *
 * Contract: ots_log_open() is called once by main from the config (before workers start); afterwards the level
 * and sink are read-only. Lines: "2026-11-23T13:10:35Z otsense LEVEL: message". Workers never log per packet.
 */
#ifndef OTS_LOG_H
#define OTS_LOG_H

#include <stdio.h>

#include "config/config.h"

int ots_log_open(int level, const char *file, char *err, size_t errlen);
void ots_log_close(void);
void ots_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
FILE *ots_log_stream(void);

#define OTS_ERR(...) ots_log(OTS_LOG_ERROR, __VA_ARGS__)
#define OTS_WARN(...) ots_log(OTS_LOG_WARN, __VA_ARGS__)
#define OTS_INFO(...) ots_log(OTS_LOG_INFO, __VA_ARGS__)
#define OTS_DEBUG(...) ots_log(OTS_LOG_DEBUG, __VA_ARGS__)

#endif
