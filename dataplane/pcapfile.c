/* dataplane/pcapfile.c - count and type a capture file with libpcap (see pcapfile.h). */
#include "dataplane/pcapfile.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dataplane/decode.h"

int ots_pcap_linktype_supported(int lt)
{
	switch (lt) {
	case OTS_LINK_ETHERNET:
	case OTS_LINK_LINUX_SLL:
	case OTS_LINK_LINUX_SLL2:
	case OTS_LINK_RAW:
	case OTS_LINK_IPV4:
	case OTS_LINK_IPV6:
	case OTS_LINK_NULL:
	case OTS_LINK_LOOP:
		return 1;
	default:
		return 0;
	}
}

int ots_pcap_probe(const char *path, struct ots_pcap_info *info, char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE];
	memset(info, 0, sizeof(*info));
	if (access(path, R_OK) != 0) {
		int e = errno;
		snprintf(err, errlen, "cannot read pcap '%s': %s; check the path and permissions", path, strerror(e));
		return -e;
	}
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, perr);
	if (!p) {
		snprintf(err, errlen, "cannot open pcap '%s': %s; give a pcap or pcapng capture file", path, perr);
		return -EINVAL;
	}
	info->linktype = pcap_datalink(p);
	struct pcap_pkthdr *h;
	const u_char *d;
	int r;
	while ((r = pcap_next_ex(p, &h, &d)) == 1) {
		uint64_t ns = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec;
		if (!info->packets)
			info->first_ns = ns;
		info->last_ns = ns;
		info->packets++;
		info->bytes += h->caplen;
		if (h->caplen > info->max_caplen)
			info->max_caplen = h->caplen;
	}
	if (r == -1) {
		/* a truncated last record: keep what was read, as tshark does, but say so */
		fprintf(stderr, "otsense: warning: pcap '%s': %s after %llu packets\n", path, pcap_geterr(p),
			(unsigned long long)info->packets);
	}
	pcap_close(p);
	if (!ots_pcap_linktype_supported(info->linktype)) {
		snprintf(err, errlen, "pcap '%s' has link type %s (%d), which otsense does not decode; convert it to "
			 "Ethernet (e.g. editcap -T ether)", path, pcap_datalink_val_to_name(info->linktype)
			 ? pcap_datalink_val_to_name(info->linktype) : "?", info->linktype);
		return -ENOTSUP;
	}
	return 0;
}
