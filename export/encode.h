/* export/encode.h - records to bytes: protobuf Envelope (the .proto files in export/proto/otsense/v1/) and JSON lines.
 *
 * Contract:
 *  - The .proto files are the single definition of every field; protoc-c generates the C message code and
 *    JSON is produced by walking the same generated descriptors, so protobuf and JSON can never disagree.
 *  - JSON: one object per record, no newline, {"type":"flow", <Envelope fields>, <record fields>} with
 *    protobuf's canonical JSON (lowerCamelCase) field names; 64-bit integers are written as JSON numbers
 *    (protobuf JSON parsers accept them); addresses are text ("10.0.0.1", "00:11:22:33:44:55").
 *  - Pure functions over caller buffers: no global state, no allocation beyond protobuf-c's on a small
 *    stack arena; safe to call from one exporter thread.
 *  - Return the byte count written, or -ENOBUFS when cap is too small (ots_encode_pb may then have written
 *    anywhere in buf[0, cap)), -EINVAL for a bad type.
 */
#ifndef OTS_ENCODE_H
#define OTS_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "export/record.h"

#define OTS_SCHEMA_VERSION 1
#define OTS_MAX_RECORD_BYTES 16384 /* any encoded record fits in this */

struct ots_envelope_meta {
	const char *sensor_id;
	uint64_t boot_id;   /* random per sensor start: (boot_id, sequence) identifies a record */
	uint64_t sequence;  /* 1, 2, 3... per boot, in the order the exporter emits */
	uint64_t time_ns;   /* when the exporter emitted it */
};

/* rec points at the struct matching type: ots_rec_asset/alert/flow/health */
int ots_encode_pb(const struct ots_envelope_meta *m, int type, const void *rec, uint8_t *buf, size_t cap);
/* The same bytes through protobuf-c (generated message structs + protobuf_c_message_pack). ots_encode_pb writes
 * asset, alert and flow records directly (export/pbwire.h, 4-7x faster) and uses this for health; it is kept as
 * the reference the direct writer is tested against (tests/test_encode.c) and for bench/export_bench.c. */
int ots_encode_pb_ref(const struct ots_envelope_meta *m, int type, const void *rec, uint8_t *buf, size_t cap);
int ots_encode_json(const struct ots_envelope_meta *m, int type, const void *rec, char *buf, size_t cap);

/* Envelope bytes -> the same JSON ots_encode_json gives (otsense-cat, tests). -EBADMSG when not an Envelope. */
int ots_pb_to_json(const uint8_t *pb, size_t len, char *buf, size_t cap);

/* Envelope header fields without decoding the record. 0 or -EBADMSG. */
int ots_pb_peek(const uint8_t *pb, size_t len, int *type, uint64_t *boot_id, uint64_t *sequence);

/* Kafka message key: asset id, alert id, flow hash (16 hex digits), health: sensor id. Returns length. */
int ots_record_key(int type, const void *rec, const char *sensor_id, char *buf, size_t cap);

/* Text forms used in JSON and keys */
void ots_fmt_ip(const struct ots_addr *a, char *buf, size_t cap); /* "" when family 0 */
void ots_fmt_mac(const uint8_t mac[6], char *buf, size_t cap);

#endif
