// SPDX-License-Identifier: GPL-2.0
/* The JSON Schema subset: each keyword accepts and rejects, errors name the
 * path, unsupported keywords are refused, and the real report schema checks
 * a real (synthetic) report. */
#include "check.h"
#include "mmrepro/config.h"
#include "mmrepro/jschema.h"

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	if (!j)
		fprintf(stderr, "test JSON does not parse: %s: %s\n", e.text, text);
	return j;
}

/* 0 when valid; else err holds the message */
static int check_doc(json_t *schema, const char *doc, char *err, size_t len)
{
	json_t *d = parse(doc);
	int ret = d ? mmr_jschema_validate(schema, d, err, len) : -1;

	json_decref(d);
	return ret;
}

int main(void)
{
	json_t *s = parse(
		"{\"type\":\"object\",\"required\":[\"v\",\"items\"],\"additionalProperties\":false,"
		"\"properties\":{\"v\":{\"const\":1},\"e\":{\"enum\":[\"a\",\"b\"]},"
		"\"n\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":9},"
		"\"p\":{\"type\":\"number\",\"exclusiveMinimum\":0},"
		"\"t\":{\"type\":\"string\",\"pattern\":\"^[0-9]{2}x$\",\"minLength\":3},"
		"\"o\":{\"oneOf\":[{\"type\":\"null\"},{\"$ref\":\"#/$defs/pt\"}]},"
		"\"m\":{\"type\":\"object\",\"minProperties\":1,"
		"\"additionalProperties\":{\"type\":\"number\"}},"
		"\"items\":{\"type\":\"array\",\"minItems\":1,\"items\":{\"$ref\":\"#/$defs/pt\"}}},"
		"\"if\":{\"required\":[\"e\"],\"properties\":{\"e\":{\"const\":\"b\"}}},\"then\":{\"required\":[\"n\"]},"
		"\"$defs\":{\"pt\":{\"type\":\"object\",\"required\":[\"x\"],"
		"\"properties\":{\"x\":{\"type\":[\"number\",\"null\"]}}}}}");
	json_t *bad = parse("{\"type\":\"object\",\"properties\":{\"a\":{\"format\":\"date\"}}}");
	json_t *report;
	char err[512], path[4096];

	CHECK(s && bad);
	CHECK(mmr_jschema_check(s, err, sizeof(err)) == 0);
	CHECK(mmr_jschema_check(bad, err, sizeof(err)) == -ENOTSUP);
	CHECK(strstr(err, "\"format\"") && strstr(err, "#/properties/a"));

	CHECK(check_doc(s,
			"{\"v\":1,\"items\":[{\"x\":1.5},{\"x\":null}],\"n\":3,\"t\":\"12x\","
			"\"o\":null,\"m\":{\"k\":2}}",
			err, sizeof(err)) == 0);
	CHECK(check_doc(s, "{\"v\":1,\"items\":[{\"x\":1}],\"o\":{\"x\":2}}", err, sizeof(err)) ==
	      0);
	CHECK(check_doc(s, "{\"v\":2,\"items\":[{\"x\":1}]}", err, sizeof(err)) == -EINVAL);
	CHECK_STR(err, "v: expected 1");
	CHECK(check_doc(s, "{\"v\":1}", err, sizeof(err)) == -EINVAL);
	CHECK_STR(err, "(top level): the required key \"items\" is missing");
	CHECK(check_doc(s, "{\"v\":1,\"items\":[{\"x\":1},{\"x\":\"s\"}]}", err, sizeof(err)));
	CHECK_STR(err, "items[1].x: expected number or null, got a string");
	CHECK(check_doc(s, "{\"v\":1,\"items\":[]}", err, sizeof(err)));
	CHECK_STR(err, "items: expected at least 1 items");
	CHECK(check_doc(s, "{\"v\":1,\"items\":[{\"x\":1}],\"zz\":0}", err, sizeof(err)));
	CHECK_STR(err, "(top level): unexpected key \"zz\"");
	CHECK(check_doc(s, "{\"v\":1,\"items\":[{\"x\":1}],\"n\":10}", err, sizeof(err)));
	CHECK_STR(err, "n: expected a value <= 9, got 10");
	CHECK(check_doc(s, "{\"v\":1,\"items\":[{\"x\":1}],\"n\":1.5}", err, sizeof(err)));
	CHECK_STR(err, "n: expected integer, got a number");
	CHECK(check_doc(s, "{\"v\":1,\"items\":[{\"x\":1}],\"p\":0}", err, sizeof(err)));
	CHECK_STR(err, "p: expected a value > 0, got 0");
	CHECK(check_doc(s, "{\"v\":1,\"items\":[{\"x\":1}],\"p\":0.5}", err, sizeof(err)) == 0);
	CHECK(check_doc(s, "{\"v\":1,\"items\":[{\"x\":1}],\"t\":\"123\"}", err, sizeof(err)));
	CHECK(strstr(err, "does not match"));
	CHECK(check_doc(s, "{\"v\":1,\"items\":[{\"x\":1}],\"e\":\"c\"}", err, sizeof(err)));
	CHECK_STR(err, "e: expected one of [\"a\",\"b\"]");
	CHECK(check_doc(s, "{\"v\":1,\"items\":[{\"x\":1}],\"e\":\"b\"}", err, sizeof(err)));
	CHECK_STR(err, "(top level): the required key \"n\" is missing"); /* if/then */
	CHECK(check_doc(s, "{\"v\":1,\"items\":[{\"x\":1}],\"o\":{\"y\":1}}", err, sizeof(err)));
	CHECK_STR(err, "o: the required key \"x\" is missing"); /* oneOf explains its form */
	CHECK(check_doc(s, "{\"v\":1,\"items\":[{\"x\":1}],\"m\":{}}", err, sizeof(err)));
	CHECK(check_doc(s, "{\"v\":1,\"items\":[{\"x\":1}],\"m\":{\"k\":\"1\"}}", err,
			sizeof(err)));
	CHECK_STR(err, "m.k: expected number, got a string");

	/* the real schema: every keyword it uses is supported, and a report
	 * made for the tests passes while a broken copy names the spot */
	json_decref(bad);
	bad = mmr_jschema_load("report.schema.json", err, sizeof(err));
	CHECK(bad != NULL);
	snprintf(path, sizeof(path), "%s/tests/integration/data/compare-base.json", mmr_datadir());
	report = json_load_file(path, 0, NULL);
	if (!report)
		SKIP("tests/integration/data is not in the data directory (installed tree?)");
	CHECK(bad && mmr_jschema_validate(bad, report, err, sizeof(err)) == 0);
	json_array_set_new(
		json_object_get(
			json_object_get(
				json_object_get(json_array_get(json_object_get(report, "cases"), 0),
						"metrics"),
				"fork_ns"),
			"samples"),
		2, json_string("slow"));
	CHECK(bad && mmr_jschema_validate(bad, report, err, sizeof(err)) == -EINVAL);
	CHECK_STR(err, "cases[0].metrics.fork_ns.samples[2]: expected number, got a string");
	json_decref(report);
	json_decref(bad);
	json_decref(s);
	return check_done("test_jschema");
}
