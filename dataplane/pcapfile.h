/* dataplane/pcapfile.h - look at a capture file before the dataplane starts (libpcap, no DPDK).
 *
 * Contract: ots_pcap_probe() opens the file with libpcap (pcap and pcapng), counts packets and bytes and
 * returns its link type; it is how finite pcap runs know when the file has been fully delivered (net_pcap gives
 * no end-of-file signal) and how decode knows the link layer. Errors: -errno + one line naming file and fix.
 */
#ifndef OTS_PCAPFILE_H
#define OTS_PCAPFILE_H

#include <stddef.h>
#include <stdint.h>

struct ots_pcap_info {
	uint64_t packets;
	uint64_t bytes;      /* captured bytes */
	uint32_t max_caplen;
	int linktype;        /* DLT_* */
	uint64_t first_ns, last_ns;
};

int ots_pcap_probe(const char *path, struct ots_pcap_info *info, char *err, size_t errlen);

/* Is the link type one decode understands? */
int ots_pcap_linktype_supported(int linktype);

#endif
