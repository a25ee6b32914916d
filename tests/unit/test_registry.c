// SPDX-License-Identifier: GPL-2.0
/* Every registered workload is well-formed and reachable by name. */
#include "check.h"
#include "mmrepro/registry.h"

int main(void)
{
	CHECK(mmr_registry_check() == 0);
	CHECK(mmr_workload_count() >= 2);
	for (size_t i = 0; i < mmr_workload_count(); i++) {
		const struct mmr_workload *w = mmr_workload_at(i);

		CHECK(mmr_workload_find(w->name) == w);
		CHECK(w->summary && *w->summary);
		CHECK(w->metrics[0].name != NULL); /* a workload that measures nothing is a bug */
	}
	CHECK(mmr_workload_find("fork_anon") != NULL);
	CHECK(mmr_workload_find("no_such_workload") == NULL);
	return check_done("test_registry");
}
