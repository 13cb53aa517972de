/* export/util.h - small helpers the Kafka sink and the spool share. */
#ifndef OTS_EXPORT_UTIL_H
#define OTS_EXPORT_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "config/errmsg.h" /* ots_seterr */

/* CLOCK_MONOTONIC in nanoseconds */
static inline uint64_t ots_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
