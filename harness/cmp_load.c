// SPDX-License-Identifier: GPL-2.0
/* Loading a report for compare/report: one clear line for every way it can be
 * unusable, and distinct exit codes for "broken" and "another version". */
#include "mmrepro/compare.h"
#include "mmrepro/jschema.h"
#include "mmrepro/report.h"
#include "mmrepro/runner.h"
#include "mmrepro/util.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

int mmr_cmp_load(const char *path, json_t *schema, struct mmr_cmp_report *r, char *err,
		 size_t errlen)
{
	char why[512];
	json_error_t je;
	json_t *ver;
	size_t len = 0;
	char *text;

	memset(r, 0, sizeof(*r));
	text = mmr_slurp(path, &len);
	if (!text) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return MMR_EXIT_BAD_REPORT;
	}
	if (len == 0 || strspn(text, " \t\r\n") == len) {
		snprintf(err, errlen, "%s: empty file, not an mmrepro report", path);
		free(text);
		return MMR_EXIT_BAD_REPORT;
	}
	r->doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	free(text);
	if (!r->doc) {
		/* jansson says "premature end of input" for a cut-off file */
		bool cut = strstr(je.text, "premature end") || je.position >= (int)len;

		/* jansson quotes the offending byte: keep the message one line */
		for (char *p = je.text; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';

		snprintf(err, errlen, "%s: %s at line %d column %d: %s", path,
			 cut ? "truncated JSON" : "not valid JSON", je.line, je.column, je.text);
		return MMR_EXIT_BAD_REPORT;
	}
	if (!json_is_object(r->doc)) {
		snprintf(err, errlen, "%s: not an mmrepro report (expected a JSON object)", path);
		goto bad;
	}
	ver = json_object_get(r->doc, "schema_version");
	if (!json_is_integer(ver)) {
		snprintf(err, errlen,
			 "%s: schema_version: missing or not an integer; not an "
			 "mmrepro report",
			 path);
		goto bad;
	}
	if (json_integer_value(ver) != MMR_SCHEMA_VERSION) {
		snprintf(err, errlen,
			 "%s: schema_version %lld, this mmrepro reads version %d (use the mmrepro "
			 "that wrote it)",
			 path, (long long)json_integer_value(ver), MMR_SCHEMA_VERSION);
		json_decref(r->doc);
		r->doc = NULL;
		return MMR_EXIT_SCHEMA_VERSION;
	}
	if (mmr_jschema_validate(schema, r->doc, why, sizeof(why))) {
		snprintf(err, errlen, "%s: not valid against report.schema.json: %s", path, why);
		goto bad;
	}
	r->path = strdup(path);
	if (!r->path) {
		snprintf(err, errlen, "%s: out of memory", path);
		json_decref(r->doc);
		r->doc = NULL;
		return MMR_EXIT_INTERNAL;
	}
	return 0;
bad:
	json_decref(r->doc);
	r->doc = NULL;
	return MMR_EXIT_BAD_REPORT;
}

void mmr_cmp_report_free(struct mmr_cmp_report *r)
{
	json_decref(r->doc);
	free(r->path);
	free(r->label);
	memset(r, 0, sizeof(*r));
}

static const char *release(const struct mmr_cmp_report *r)
{
	const char *s = json_string_value(json_object_get(
		json_object_get(json_object_get(r->doc, "fingerprint"), "kernel"), "release"));

	return s ? s : "?";
}

static char *file_label(const char *path)
{
	char *copy = strdup(path), *base, *out, *dot;

	if (!copy)
		return NULL;
	base = basename(copy);
	out = strdup(base);
	free(copy);
	if (out && (dot = strrchr(out, '.')) && !strcmp(dot, ".json") && dot != out)
		*dot = '\0';
	return out;
}

void mmr_cmp_label(struct mmr_cmp_report *r, size_t n)
{
	bool unique = true, files_unique = true;

	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			unique &= strcmp(release(&r[i]), release(&r[j])) != 0;
	for (size_t i = 0; i < n; i++) {
		free(r[i].label);
		r[i].label = unique ? strdup(release(&r[i])) : file_label(r[i].path);
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (r[i].label && r[j].label && !strcmp(r[i].label, r[j].label))
				files_unique = false;
	if (files_unique)
		return;
	for (size_t i = 0; i < n; i++) {
		char *l = mmr_strdup_printf("#%zu %s", i + 1, r[i].label ? r[i].label : "");

		free(r[i].label);
		r[i].label = l;
	}
}
