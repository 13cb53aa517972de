/* detect/detect_config.c - detection built from the startup configuration (see detect_config.h). */
#include "detect/detect_config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef OTS_SHIPPED_RULES_INSTALLED
#define OTS_SHIPPED_RULES_INSTALLED "/usr/local/share/otsense/rules/otsense-ot.rules"
#endif
#ifndef OTS_SHIPPED_RULES_SOURCE
#define OTS_SHIPPED_RULES_SOURCE "config/rules/otsense-ot.rules"
#endif

const char *ots_shipped_rules(void)
{
	static const char *const where[] = { OTS_SHIPPED_RULES_INSTALLED, OTS_SHIPPED_RULES_SOURCE };
	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++)
		if (access(where[i], R_OK) == 0)
			return where[i];
	return NULL;
}

int ots_detect_from_config(const struct ots_config *cfg, const char *const *extra, unsigned nextra,
			   struct ots_detect **out, ots_rule_diag_fn diag, void *ud, char *err, size_t errlen)
{
	static char list[sizeof(cfg->rule_files)];
	const char *files[OTS_MAX_RULE_FILES];
	struct ots_rule_var vars[OTS_MAX_RULE_VARS];
	unsigned n = 0;

	snprintf(list, sizeof(list), "%s", cfg->rule_files);
	for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ')
			tok++;
		size_t l = strlen(tok);
		while (l && tok[l - 1] == ' ')
			tok[--l] = 0;
		if (!l)
			continue;
		if (!strcmp(tok, "auto")) {
			tok = (char *)ots_shipped_rules();
			if (!tok) {
				if (diag) {
					char line[256];
					snprintf(line, sizeof(line), "detect.rule_files: auto: the shipped ruleset is not "
						 "installed (looked for %s and %s); no signatures",
						 OTS_SHIPPED_RULES_INSTALLED, OTS_SHIPPED_RULES_SOURCE);
					diag(ud, line);
				}
				continue;
			}
		}
		if (n == OTS_MAX_RULE_FILES) {
			snprintf(err, errlen, "detect.rule_files: more than %d rule files", OTS_MAX_RULE_FILES);
			return -E2BIG;
		}
		files[n++] = tok;
	}
	for (unsigned i = 0; i < nextra; i++) {
		if (n == OTS_MAX_RULE_FILES) {
			snprintf(err, errlen, "--rules: more than %d rule files", OTS_MAX_RULE_FILES);
			return -E2BIG;
		}
		files[n++] = extra[i];
	}
	for (uint32_t i = 0; i < cfg->nrule_vars && i < OTS_MAX_RULE_VARS; i++) {
		snprintf(vars[i].name, sizeof(vars[i].name), "%s", cfg->rule_vars[i].name);
		snprintf(vars[i].value, sizeof(vars[i].value), "%s", cfg->rule_vars[i].value);
	}
	struct ots_detect_cfg dc = {
		.sensor_id = cfg->sensor_id,
		.rule_files = files,
		.nrule_files = n,
		.vars = { cfg->nrule_vars, vars },
		.cache_dir = cfg->rule_cache_dir,
		.alert_window_s = cfg->alert_window,
		.agg_capacity = cfg->alert_capacity,
		.threshold_capacity = cfg->threshold_capacity,
		.ot_engine = cfg->ot_engine,
	};
	return ots_detect_build(&dc, out, diag, ud, err, errlen);
}
