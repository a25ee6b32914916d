// SPDX-License-Identifier: GPL-2.0
/* Matrix expansion, defaults, includes, --set and --scale. */
#include "cfgfile.h"

#include <inttypes.h>

struct fa { /* the layout of fork_anon's params struct, read back */
	uint64_t size;
	const char *backing;
};

static uint64_t size_of(const struct mmr_config *cfg, size_t i)
{
	return (uint64_t)json_integer_value(json_object_get(cfg->cases[i].params, "size"));
}

static const char *backing_of(const struct mmr_config *cfg, size_t i)
{
	return json_string_value(json_object_get(cfg->cases[i].params, "backing"));
}

int main(void)
{
	static const char *const collapse[] = { "backing=4k", "repetitions=5", NULL };
	static const char *const set_size[] = { "size=128M", NULL };
	struct mmr_config cfg;

	fake_tree();
	/* the last matrix key varies fastest */
	CHECK(load_text(
		      "m.json",
		      "{\"defaults\": {\"repetitions\": 3, \"params\": {\"cow\": \"none\"}},"
		      " \"cases\": [{\"workload\": \"fork_anon\","
		      "  \"matrix\": {\"backing\": [\"4k\", \"thp-pte\"], \"size\": [\"16M\", \"32M\"]}}]}",
		      NULL, MMR_SCALE_DEFAULT, &cfg) == 0);
	CHECK(cfg.ncases == 4);
	if (cfg.ncases == 4) {
		CHECK_STR(backing_of(&cfg, 0), "4k");
		CHECK(size_of(&cfg, 0) == 16ULL << 20);
		CHECK_STR(backing_of(&cfg, 1), "4k");
		CHECK(size_of(&cfg, 1) == 32ULL << 20);
		CHECK_STR(backing_of(&cfg, 2), "thp-pte");
		CHECK(size_of(&cfg, 2) == 16ULL << 20);
		CHECK_STR(backing_of(&cfg, 3), "thp-pte");
		CHECK(size_of(&cfg, 3) == 32ULL << 20);
		CHECK_STR(cfg.cases[3].id, "fork_anon size=32M backing=thp-pte cow=none");
		CHECK(cfg.cases[0].reps == 3);
		/* the parsed struct the workload sees agrees with the report */
		CHECK(((struct fa *)cfg.cases[1].pvals)->size == 32ULL << 20);
		CHECK_STR(((struct fa *)cfg.cases[2].pvals)->backing, "thp-pte");
	}
	mmr_config_free(&cfg);

	/* --set pins a swept parameter (the axis collapses) and sets harness keys */
	CHECK(load_text("m.json",
			"{\"workload\": \"fork_anon\", \"params\": {\"size\": \"16M\"},"
			" \"matrix\": {\"backing\": [\"4k\", \"thp-pte\", \"thp-pmd\"]}}",
			collapse, MMR_SCALE_DEFAULT, &cfg) == 0);
	CHECK(cfg.ncases == 1);
	if (cfg.ncases == 1) {
		CHECK_STR(backing_of(&cfg, 0), "4k");
		CHECK(cfg.cases[0].reps == 5);
	}
	mmr_config_free(&cfg);

	/* patterns expand over the enum's choices, in their order */
	CHECK(load_text(
		      "m.json",
		      "{\"workload\": \"fork_anon\", \"matrix\": {\"backing\": [\"4k\", \"mthp-*\"]}}",
		      NULL, MMR_SCALE_DEFAULT, &cfg) == 0);
	CHECK(cfg.ncases == 9);
	if (cfg.ncases == 9) {
		CHECK_STR(backing_of(&cfg, 1), "mthp-8K");
		CHECK_STR(backing_of(&cfg, 8), "mthp-1M");
	}
	mmr_config_free(&cfg);

	/* --scale ci divides scaled sizes by 16 (default and config values alike),
	 * never below the minimum, and never a value given with --set */
	CHECK(load_text("m.json",
			"{\"cases\": [{\"workload\": \"fork_anon\"},"
			" {\"workload\": \"fork_anon\", \"params\": {\"size\": \"16M\"}}]}",
			NULL, MMR_SCALE_CI, &cfg) == 0);
	CHECK(cfg.ncases == 2 && size_of(&cfg, 0) == 64ULL << 20 && size_of(&cfg, 1) == 2ULL << 20);
	mmr_config_free(&cfg);
	CHECK(load_text("m.json", "{\"workload\": \"fork_anon\"}", set_size, MMR_SCALE_CI, &cfg) ==
	      0);
	CHECK(cfg.ncases == 1 && size_of(&cfg, 0) == 128ULL << 20);
	mmr_config_free(&cfg);
	CHECK(load_text("m.json", "{\"workload\": \"fork_anon\"}", NULL, MMR_SCALE_FULL, &cfg) ==
	      0);
	CHECK(cfg.ncases == 1 && size_of(&cfg, 0) == 4ULL << 30);
	/* fitting to the machine halves scaled sizes, and the id follows */
	CHECK(mmr_case_shrink(&cfg.cases[0]) == 0);
	CHECK(size_of(&cfg, 0) == 2ULL << 30);
	CHECK(((struct fa *)cfg.cases[0].pvals)->size == 2ULL << 30);
	mmr_config_free(&cfg);
	CHECK(load_text("m.json", "{\"workload\": \"fork_anon\", \"params\": {\"size\": \"4M\"}}",
			NULL, MMR_SCALE_CI, &cfg) == 0);
	/* 4M / 16 is clamped to the 2M minimum, below which nothing shrinks */
	CHECK(cfg.ncases == 1 && size_of(&cfg, 0) == 2ULL << 20);
	CHECK(mmr_case_shrink(&cfg.cases[0]) == -ERANGE);
	CHECK_STR(cfg.cases[0].id, "fork_anon size=2M");
	mmr_config_free(&cfg);
	/* a size given with --set is the user's: never scaled, never shrunk */
	CHECK(load_text("m.json", "{\"workload\": \"fork_anon\"}", set_size, MMR_SCALE_FULL,
			&cfg) == 0);
	CHECK(cfg.ncases == 1 && mmr_case_shrink(&cfg.cases[0]) == -ERANGE);
	mmr_config_free(&cfg);

	/* include: the including entry's params override the included cases' and
	 * pin their matrix axes; settings merge */
	fake_file(
		"/inc/base.json",
		"{\"workload\": \"fork_anon\", \"params\": {\"size\": \"64M\"},"
		" \"settings\": {\"thp.defrag\": \"madvise\"},"
		" \"matrix\": {\"backing\": [\"4k\", \"thp-pte\"], \"cow\": [\"seq\", \"random\"]}}");
	CHECK(load_text("inc/suite.json",
			"{\"name\": \"quick\", \"cases\": [{\"include\": \"base.json\","
			" \"params\": {\"size\": \"8M\", \"cow\": \"none\"}, \"repetitions\": 2}]}",
			NULL, MMR_SCALE_DEFAULT, &cfg) == 0);
	CHECK(cfg.ncases == 2);
	if (cfg.ncases == 2) {
		CHECK(size_of(&cfg, 0) == 8ULL << 20);
		CHECK_STR(json_string_value(json_object_get(cfg.cases[1].params, "cow")), "none");
		CHECK(cfg.cases[1].reps == 2);
		CHECK_STR(json_string_value(json_object_get(cfg.cases[0].settings, "thp.defrag")),
			  "madvise");
		CHECK_STR(cfg.name, "quick");
	}
	mmr_config_free(&cfg);
	fake_cleanup();
	return check_done("test_matrix");
}
