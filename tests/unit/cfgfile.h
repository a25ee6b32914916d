/* SPDX-License-Identifier: GPL-2.0 */
/* Load a config written on the spot, for config unit tests. */
#ifndef MMREPRO_TEST_CFGFILE_H
#define MMREPRO_TEST_CFGFILE_H

#include "check.h"
#include "fakesys.h"
#include "mmrepro/config.h"

static char cfg_path[512];
static char cfg_err[2048];

/* Write `text` as <fake_root>/<name> and load it with the given --set pairs. */
__attribute__((unused)) static int load_text(const char *name, const char *text,
					     const char *const *sets, enum mmr_scale scale,
					     struct mmr_config *cfg)
{
	struct mmr_overrides ov = { 0 };
	char rel[256];
	int ret;

	snprintf(rel, sizeof(rel), "/%s", name);
	fake_file(rel, text);
	snprintf(cfg_path, sizeof(cfg_path), "%s/%s", fake_root, name);
	for (size_t i = 0; sets && sets[i]; i++)
		CHECK(mmr_overrides_add(&ov, sets[i], cfg_err, sizeof(cfg_err)) == 0);
	cfg_err[0] = '\0';
	ret = mmr_config_load(cfg_path, &ov, scale, true, cfg, cfg_err, sizeof(cfg_err));
	mmr_overrides_free(&ov);
	return ret;
}

#endif
