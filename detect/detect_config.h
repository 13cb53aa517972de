/* detect/detect_config.h - detection built from the startup configuration.
 *
 * Contract:
 *  - ots_detect_from_config() turns detect.* keys (rule files, "auto" = the shipped ruleset, rule variables,
 *    cache dir, alert window, capacities, OT engine) plus the --rules files into a built struct ots_detect
 *    (detect.h). Skipped rules go to diag; 0 or -errno with err filled.
 *  - The shipped ruleset is looked up in the install location, then in the source tree (build-time path).
 */
#ifndef OTS_DETECT_CONFIG_H
#define OTS_DETECT_CONFIG_H

#include "config/config.h"
#include "detect/detect.h"

#define OTS_MAX_RULE_FILES 64

/* path of the shipped OT ruleset, or NULL when it is not installed */
const char *ots_shipped_rules(void);

int ots_detect_from_config(const struct ots_config *cfg, const char *const *extra, unsigned nextra,
			   struct ots_detect **out, ots_rule_diag_fn diag, void *ud, char *err, size_t errlen);

#endif
