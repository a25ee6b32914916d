// SPDX-License-Identifier: GPL-2.0
/* Config errors: one line naming the file, the key and what was expected. */
#include "cfgfile.h"

/* The error for `text` must be "<file>: <rest>" (or "<file><rest>" when rest
 * starts with ':' as for JSON positions). */
static void expect_error(const char *text, const char *const *sets, const char *rest)
{
	struct mmr_config cfg;
	char want[4096];

	if (load_text("bad.json", text, sets, MMR_SCALE_DEFAULT, &cfg) == 0) {
		fprintf(stderr, "accepted: %s\n", text);
		check_failures++;
		mmr_config_free(&cfg);
		return;
	}
	if (rest[0] == ':' || rest[0] == '-')
		snprintf(want, sizeof(want), "%s%s", rest[0] == ':' ? cfg_path : "", rest);
	else
		snprintf(want, sizeof(want), "%s: %s", cfg_path, rest);
	CHECK_STR(cfg_err, want);
	CHECK(strchr(cfg_err, '\n') == NULL);
}

int main(void)
{
	static const char *const set_bad_size[] = { "size=12Q", NULL };
	static const char *const set_unknown[] = { "sise=1G", NULL };
	static const char *const set_bad_reps[] = { "repetitions=abc", NULL };
	static const char *const set_bad_knob[] = { "settings.thp.enabled=bogus", NULL };
	struct mmr_config cfg;

	fake_tree();
	expect_error("{\"workload\": \"fork_anon\", \"params\": {\"sise\": \"1G\"}}", NULL,
		     "cases[0].params.sise: unknown key (did you mean \"size\"?)");
	expect_error(
		"{\"workload\": \"fork_anon\", \"params\": {\"size\": \"12Q\"}}", NULL,
		"cases[0].params.size: expected a size like 512M or 1G in 2M..1T, got \"12Q\"");
	expect_error("{\"workload\": \"fork_anon\", \"params\": {\"size\": \"1M\"}}", NULL,
		     "cases[0].params.size: expected a size like 512M or 1G in 2M..1T, got \"1M\"");
	expect_error("{\"workload\": \"fork_anon\", \"params\": {\"backing\": \"thp-ptee\"}}", NULL,
		     "cases[0].params.backing: expected one of 4k|thp-pmd|thp-pte|mthp-8K|mthp-16K|"
		     "mthp-32K|mthp-64K|mthp-128K|mthp-256K|mthp-512K|mthp-1M, got \"thp-ptee\" "
		     "(did you mean \"thp-pte\"?)");
	expect_error(
		"{\"workload\": \"fork_anno\"}", NULL,
		"cases[0].workload: unknown workload \"fork_anno\" (did you mean \"fork_anon\"?)");
	expect_error("{\"cases\": [{\"workload\": \"fork_anon\"}], \"defualts\": {}}", NULL,
		     "defualts: unknown key (did you mean \"defaults\"?)");
	expect_error("{\"cases\": []}", NULL, "cases: expected a non-empty array of case objects");
	expect_error("[1, 2]", NULL, "expected a JSON object at the top level");
	expect_error("{\"workload\": \"fork_anon\",\n \"params\": {\"size\": 1G}}", NULL,
		     ":2:22: invalid JSON: '}' expected near 'G'");
	expect_error("{\"workload\": \"fork_anon\", \"workload\": \"x\"}", NULL,
		     ":1:36: invalid JSON: duplicate object key near '\"workload\"'");
	expect_error("{\"workload\": \"fork_anon\", \"matrix\": {\"backing\": \"4k\"}}", NULL,
		     "cases[0].matrix.backing: expected a non-empty array of values");
	expect_error("{\"workload\": \"fork_anon\", \"matrix\": {\"backing\": [\"zzz*\"]}}", NULL,
		     "cases[0].matrix.backing[0]: pattern \"zzz*\" matches no choice of backing");
	expect_error("{\"workload\": \"fork_anon\", \"matrix\": {\"sized\": [\"1G\"]}}", NULL,
		     "cases[0].matrix.sized: unknown key (did you mean \"size\"?)");
	expect_error("{\"workload\": \"fork_anon\", \"repetitions\": 0}", NULL,
		     "cases[0].repetitions: expected an integer in 1..100000, got 0");
	expect_error("{\"workload\": \"fork_anon\", \"repetitions\": \"3\"}", NULL,
		     "cases[0].repetitions: expected an integer in 1..100000, got \"3\"");
	expect_error("{\"workload\": \"fork_anon\", \"timeout\": \"soon\"}", NULL,
		     "cases[0].timeout: expected a duration like 90s, 10m or 1h, got \"soon\"");
	expect_error("{\"workload\": \"fork_anon\"}", set_bad_reps,
		     "--set repetitions: expected an integer in 1..100000, got \"abc\"");
	expect_error("{\"workload\": \"fork_anon\"}", set_bad_knob,
		     "--set settings.thp.enabled: expected one of always|madvise|never, got "
		     "\"bogus\"");
	expect_error("{\"workload\": \"fork_anon\", \"params\": {\"cow_fraction\": \"0.5\"}}", NULL,
		     "cases[0].params.cow_fraction: expected a JSON number, got the string "
		     "\"0.5\"");
	expect_error("{\"workload\": \"fork_anon\", \"params\": {\"size\": \"64M\"}, "
		     "\"matrix\": {\"size\": [\"32M\"]}}",
		     NULL, "cases[0].matrix.size: also given in params; give it in one place");
	expect_error("{\"workload\": \"fork_anon\", \"settings\": {\"thp.enabld\": \"never\"}}",
		     NULL,
		     "cases[0].settings.thp.enabld: unknown knob \"thp.enabld\" (did you mean "
		     "\"thp.enabled\"?)");
	expect_error(
		"{\"workload\": \"fork_anon\", \"settings\": {\"thp.enabled\": \"sometimes\"}}",
		NULL,
		"cases[0].settings.thp.enabled: expected one of always|madvise|never, got "
		"\"sometimes\"");
	expect_error("{\"workload\": \"fork_anon\", \"settings\": {\"net.ipv4.ip_forward\": 1}}",
		     NULL,
		     "cases[0].settings.net.ipv4.ip_forward: unknown knob \"net.ipv4.ip_forward\"; "
		     "allowed: thp.*, hugetlb.<size>.*, vm.*, kernel.*");
	expect_error("{\"workload\": \"fork_anon\", \"include\": \"x.json\"}", NULL,
		     "cases[0]: \"include\" and \"workload\" exclude each other");
	expect_error("{\"workload\": \"fork_anon\"}", set_bad_size,
		     "--set size: expected a size like 512M or 1G in 2M..1T, got \"12Q\"");
	expect_error("{\"workload\": \"fork_anon\"}", set_unknown,
		     "--set sise=1G: no case has a parameter \"sise\" (see `mmrepro list`)");
	{
		char rest[2048];

		snprintf(
			rest, sizeof(rest),
			"cases[0]: include %s/missing.json: unable to open %s/missing.json: No such "
			"file or directory",
			fake_root, fake_root);
		expect_error("{\"cases\": [{\"include\": \"missing.json\"}]}", NULL, rest);
	}

	/* an absolute include is used as it is, a relative one against the file */
	{
		char text[1024];

		fake_file("/sub/inc.json", "{\"workload\": \"fork_anon\"}");
		snprintf(text, sizeof(text), "{\"cases\": [{\"include\": \"%s/sub/inc.json\"}]}",
			 fake_root);
		CHECK(load_text("abs.json", text, NULL, MMR_SCALE_DEFAULT, &cfg) == 0);
		CHECK(cfg.ncases == 1);
		mmr_config_free(&cfg);
		CHECK(load_text("rel.json", "{\"cases\": [{\"include\": \"sub/inc.json\"}]}", NULL,
				MMR_SCALE_DEFAULT, &cfg) == 0);
		CHECK(cfg.ncases == 1);
		mmr_config_free(&cfg);
	}

	/* a good config is accepted, and a workload name runs with its defaults */
	CHECK(load_text("good.json",
			"{\"workload\": \"fork_anon\", \"params\": {\"size\": \"64M\"}}", NULL,
			MMR_SCALE_DEFAULT, &cfg) == 0);
	CHECK(cfg.ncases == 1);
	mmr_config_free(&cfg);
	CHECK(mmr_config_load("fork_anon", NULL, MMR_SCALE_DEFAULT, false, &cfg, cfg_err,
			      sizeof(cfg_err)) == 0);
	CHECK(cfg.ncases == 1 && cfg.path == NULL);
	mmr_config_free(&cfg);
	CHECK(mmr_config_load("fork_anno", NULL, MMR_SCALE_DEFAULT, false, &cfg, cfg_err,
			      sizeof(cfg_err)) != 0);
	CHECK(strstr(cfg_err, "did you mean \"fork_anon\"") != NULL);
	fake_cleanup();
	return check_done("test_config");
}
