// SPDX-License-Identifier: GPL-2.0
/* Typed parameters: one parser for JSON values and --set text. */
#include "check.h"
#include "mmrepro/params.h"

struct p {
	uint64_t size;
	int64_t n;
	double frac;
	bool on;
	const char *mode;
	char *label;
};

static const char *const modes[] = { "fifo", "random", "phased", NULL };
static const struct mmr_param table[] = {
	{ "size", MMR_T_SIZE, offsetof(struct p, size), "1G", .min = "2M", .max = "1T",
	  .help = "h" },
	{ "n", MMR_T_INT, offsetof(struct p, n), "4", .min = "0", .max = "64", .help = "h" },
	{ "frac", MMR_T_DOUBLE, offsetof(struct p, frac), "0.5", .min = "0", .max = "1",
	  .help = "h" },
	{ "on", MMR_T_BOOL, offsetof(struct p, on), "false", .help = "h" },
	{ "mode", MMR_T_ENUM, offsetof(struct p, mode), "fifo", .choices = modes, .help = "h" },
	{ "label", MMR_T_STRING, offsetof(struct p, label), "x", .help = "h" },
	{ NULL },
};

static struct p v;
static char err[512];

static int parse(const char *name, json_t *val)
{
	json_t *canon = NULL;
	int r = mmr_param_parse(mmr_param_find(table, name), val, &v, &canon, err, sizeof(err));

	json_decref(val);
	json_decref(canon);
	return r;
}

int main(void)
{
	CHECK(parse("size", json_string("512M")) == 0 && v.size == 512ULL << 20);
	CHECK(parse("size", json_integer(4 << 20)) == 0 && v.size == 4ULL << 20);
	CHECK(parse("size", json_string("1M")) != 0);
	CHECK_STR(err, "expected a size like 512M or 1G in 2M..1T, got \"1M\"");
	CHECK(parse("size", json_real(3.5)) != 0);
	CHECK(parse("size", json_true()) != 0);
	CHECK_STR(err, "expected a size like 512M or 1G in 2M..1T, got true");
	CHECK(parse("n", json_string("12")) == 0 && v.n == 12);
	CHECK(parse("n", json_string("1.5")) != 0);
	CHECK_STR(err, "expected an integer in 0..64, got \"1.5\"");
	CHECK(parse("n", json_integer(65)) != 0);
	CHECK(parse("frac", json_string("0.25")) == 0 && v.frac == 0.25);
	CHECK(parse("frac", json_real(1.5)) != 0);
	CHECK_STR(err, "expected a number in 0..1, got 1.5");
	CHECK(parse("on", json_string("yes")) == 0 && v.on);
	CHECK(parse("on", json_false()) == 0 && !v.on);
	CHECK(parse("on", json_string("perhaps")) != 0);
	CHECK_STR(err, "expected true or false, got \"perhaps\"");
	CHECK(parse("mode", json_string("RANDOM")) == 0 && !strcmp(v.mode, "random"));
	CHECK(parse("mode", json_string("phsed")) != 0);
	CHECK_STR(err,
		  "expected one of fifo|random|phased, got \"phsed\" (did you mean \"phased\"?)");
	CHECK(parse("mode", json_string("zzzzzz")) != 0);
	CHECK_STR(err, "expected one of fifo|random|phased, got \"zzzzzz\"");
	CHECK(parse("label", json_string("hello")) == 0 && !strcmp(v.label, "hello"));
	CHECK(parse("label", json_integer(7)) == 0 && !strcmp(v.label, "7"));
	mmr_params_free(table, &v);
	CHECK(v.label == NULL);
	CHECK(mmr_param_count(table) == 6);
	return check_done("test_params");
}
