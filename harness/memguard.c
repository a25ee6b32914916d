// SPDX-License-Identifier: GPL-2.0
/* The memory guard: a case runs only if its footprint fits in MemAvailable
 * minus a margin, so neither a test nor a default config can wake the OOM
 * killer. */
#include "mmrepro/memguard.h"
#include "mmrepro/util.h"

#include <errno.h>
#include <stdlib.h>

int mmr_memguard_read(struct mmr_memguard *g)
{
	long long total = mmr_meminfo_kb("MemTotal"), avail = mmr_meminfo_kb("MemAvailable");
	const char *env = getenv("MMREPRO_MEM_MARGIN");
	uint64_t tenth;

	if (total < 0 || avail < 0)
		return -EIO;
	g->mem_total = (uint64_t)total * 1024;
	g->mem_available = (uint64_t)avail * 1024;
	tenth = g->mem_total / 10;
	g->margin = tenth > MMR_GiB ? tenth : MMR_GiB;
	/* A larger margin may be asked for (never a smaller one). */
	if (env) {
		uint64_t m;

		if (!mmr_parse_size(env, &m) && m > g->margin)
			g->margin = m;
	}
	g->budget = g->mem_available > g->margin ? g->mem_available - g->margin : 0;
	return 0;
}

bool mmr_memguard_fits(const struct mmr_memguard *g, uint64_t footprint)
{
	return footprint <= g->budget;
}
