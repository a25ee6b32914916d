/* SPDX-License-Identifier: GPL-2.0 */
/* Never push the machine into the OOM killer: check footprints up front. */
#ifndef MMREPRO_MEMGUARD_H
#define MMREPRO_MEMGUARD_H

#include <stdbool.h>
#include <stdint.h>

struct mmr_memguard {
	uint64_t mem_total;
	uint64_t mem_available;
	uint64_t margin; /* kept free: max(1 GiB, 10% of MemTotal) */
	uint64_t budget; /* mem_available - margin (0 when negative) */
};

int mmr_memguard_read(struct mmr_memguard *g);
bool mmr_memguard_fits(const struct mmr_memguard *g, uint64_t footprint);

#endif
