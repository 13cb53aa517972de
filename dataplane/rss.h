/* dataplane/rss.h - symmetric Toeplitz hash, the same one programmed into NICs.
 *
 * Contract: ots_rss_key is the 40-byte 0x6d5a-repeating key; with it Toeplitz(src,dst,sport,dport) ==
 * Toeplitz(dst,src,dport,sport), so both directions of a flow land on the same queue (NIC RSS) and on the same
 * worker (software distribution, which uses ots_rss_hash()). ots_rss_init() builds lookup tables once at start.
 */
#ifndef OTS_RSS_H
#define OTS_RSS_H

#include <stdint.h>

#include "dataplane/decode.h"

#define OTS_RSS_KEY_LEN 40
extern const uint8_t ots_rss_key[52]; /* 40 bytes used by most NICs; some (i40e/ice) take 52 */

void ots_rss_init(void);

/* Toeplitz over the input bytes (len <= 36) with ots_rss_key. */
uint32_t ots_rss_toeplitz(const uint8_t *in, uint32_t len);

/* Hash of a decoded packet's (src, dst, sport, dport), as a NIC computes it for IPv4/IPv6 TCP/UDP.
 * Packets without an IP flow key hash to 0. */
uint32_t ots_rss_hash(const struct ots_pkt *pkt);

#endif
