/* dataplane/eal.h - EAL command line from the config, and checks that must pass before EAL starts.
 *
 * Contract:
 *  - ots_eal_build() turns the config into an EAL argv: lcores (main + workers, or the configured map),
 *    hugepages or not (auto: --no-huge --no-pci --no-shconf with -m sized from the config when the machine has
 *    no free hugepages), the port's vdev/PCI allow-list, log level and extra args. net_memif needs the
 *    multi-process channel, so memif ports get a unique --file-prefix instead of --no-shconf.
 *  - Every refusal is one line in err naming the problem and the fix; nothing is started.
 */
#ifndef OTS_EAL_H
#define OTS_EAL_H

#include <stddef.h>

#include "config/config.h"

#define OTS_EAL_MAX_ARGS 48

struct ots_eal_args {
	int argc;
	char *argv[OTS_EAL_MAX_ARGS + 1];
	char store[OTS_EAL_MAX_ARGS][OTS_PATH_MAX + 96];
	int no_huge;        /* chose --no-huge */
	unsigned memory_mb; /* -m given (no_huge) */
};

/* CPUs this process may run on. */
int ots_cpu_count(void);

/* Free 2 MiB/1 GiB hugepages on this machine. */
unsigned long ots_hugepages_free(void);

/* Memory (MiB) the config needs: mbufs + flow tables + margin. */
unsigned ots_eal_memory_needed(const struct ots_config *cfg);

int ots_eal_build(const struct ots_config *cfg, const char *prog, struct ots_eal_args *a, char *err, size_t errlen);

#endif
