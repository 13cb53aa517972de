/* export/spool.h - the on-disk spool: records Kafka could not take (yet) wait here, in order, across restarts.
 *
 * Contract:
 *  - One directory, one owner: open takes an exclusive lock (DIR/.lock); a second process on the same
 *    directory fails to open with a clear message. Only the exporter thread calls a spool; no locking inside.
 *  - Records go to segment files DIR/<16 hex digits>.seg, read in ascending segment number; within a segment in
 *    append order. Record on disk (little-endian):
 *        u32 magic "OTS1" | u32 len (key + value bytes) | u32 CRC32C | u8 state | u8 type | u16 klen | key | value
 *    The CRC covers len, type, klen, key and value; the state byte is outside it so that delivery can be
 *    recorded in place: 0x00 pending, 0xA5 done (delivered, or permanently failed: never sent again).
 *  - Consumption is persisted per record: ack() writes the done mark, so a restart sends only what was not
 *    confirmed, even when confirmations arrive out of order (one Kafka partition overtaking another), which a
 *    single committed offset could not express. A segment whose records are all done is deleted.
 *  - Corruption (partial write at a crash, bad CRC, impossible length, bad magic) is reported once per region as
 *    one log line naming the file, the offset and the bytes skipped; reading resynchronises on the next record
 *    whose header and CRC verify, so the good records before and after a bad region are all kept.
 *  - Size cap: appends that would take the spool beyond max_bytes fail with -ENOSPC (the caller counts the record
 *    as dropped). Space comes back when consumed segments are deleted.
 *  - fsync: NEVER leaves it to the kernel; INTERVAL fdatasyncs written segments at most every fsync_ms (checked on
 *    append and tick); ALWAYS fdatasyncs after every append (done marks and directory changes at the next tick).
 *  - Ordering for records that bypassed the spool (sent straight to Kafka) and come back undelivered: mark()
 *    returns a position between everything appended so far and everything appended later; append_at(mark) files
 *    the record there. Pure C, no DPDK.
 */
#ifndef OTS_SPOOL_H
#define OTS_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#define OTS_SPOOL_MAX_RECORD (16u << 20) /* key + value; bigger lengths on disk are corruption */
#define OTS_SPOOL_HDR 16u

struct ots_spool;

struct ots_spool_opts {
	const char *dir;        /* created (with parents) if missing */
	uint64_t max_bytes;     /* cap on the segment files' total size */
	uint64_t segment_bytes; /* rotate the write segment beyond this; 0 = max_bytes/16 within 64 KiB..64 MiB */
	int fsync_mode;         /* enum ots_fsync (config/config.h) */
	uint32_t fsync_ms;      /* OTS_FSYNC_INTERVAL period */
	int readonly;           /* inspection (otsense-cat --spool): no lock, nothing written or deleted; appends
	                           fail with -EROFS, acks are only remembered */
};

struct ots_spool_rec {
	uint64_t ticket; /* names this read for ack()/nack() */
	int type;
	const void *key; /* valid until the next ots_spool_next() or close */
	size_t klen;
	const void *val;
	size_t vlen;
};

struct ots_spool_stats {
	uint64_t bytes;           /* segment files' total size now */
	uint64_t records;         /* records not done yet (unread + handed out) */
	uint64_t unread;          /* what next() will still return (including nack'ed records) */
	uint64_t inflight;        /* handed out by next(), neither acked nor nacked */
	uint64_t segments;        /* segment files now */
	uint64_t appended;        /* records appended since open */
	uint64_t corrupt_regions; /* bad regions found since open */
	uint64_t corrupt_bytes;   /* bytes skipped in them */
};

/* 0 or -errno with one line in err (dir not creatable/writable, locked by another process, ...). Existing
 * segments are scanned: pending records are counted, corruption is reported, fully done segments deleted. */
int ots_spool_open(struct ots_spool **out, const struct ots_spool_opts *o, char *err, size_t errlen);
/* Syncs (unless fsync is NEVER) and closes; handed-out records that were not acked stay pending on disk. */
void ots_spool_close(struct ots_spool *sp);

/* 0, -ENOSPC (the max_bytes cap), -EMSGSIZE (key > 65535 or record > OTS_SPOOL_MAX_RECORD), -EIO (the file
 * system refused: disk full, I/O error; logged once with the cause) */
int ots_spool_append(struct ots_spool *sp, int type, const void *key, size_t klen, const void *val, size_t vlen);
uint64_t ots_spool_mark(struct ots_spool *sp);
int ots_spool_append_at(struct ots_spool *sp, uint64_t mark, int type, const void *key, size_t klen,
			const void *val, size_t vlen);

/* 1 and *r filled, 0 when nothing is unread, -errno on an I/O error. nack'ed records come first, in the order
 * they were first read; then unread records in spool order. */
int ots_spool_next(struct ots_spool *sp, struct ots_spool_rec *r);
void ots_spool_ack(struct ots_spool *sp, uint64_t ticket);  /* done: never returned again, here or after reopen */
void ots_spool_nack(struct ots_spool *sp, uint64_t ticket); /* not sent after all: next() returns it again */

/* Periodic work (fsync INTERVAL, done marks under ALWAYS); call it from the owner's loop. */
void ots_spool_tick(struct ots_spool *sp);
/* fdatasync everything written so far, whatever the fsync mode says. */
void ots_spool_sync(struct ots_spool *sp);

void ots_spool_stats(const struct ots_spool *sp, struct ots_spool_stats *st);
uint64_t ots_spool_unread(const struct ots_spool *sp);
const char *ots_spool_dir(const struct ots_spool *sp);

/* CRC32C (Castagnoli), as stored in records; crc starts at 0. _sw is the table version (tests compare). */
uint32_t ots_crc32c(uint32_t crc, const void *p, size_t n);
uint32_t ots_crc32c_sw(uint32_t crc, const void *p, size_t n);

#endif
