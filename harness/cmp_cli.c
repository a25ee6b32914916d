// SPDX-License-Identifier: GPL-2.0
/* The command line shared by `mmrepro compare` and `mmrepro report`: options,
 * loading, and writing every requested output format. */
#include "mmrepro/compare.h"
#include "mmrepro/jschema.h"
#include "mmrepro/runner.h"
#include "mmrepro/util.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum fmt { F_TEXT, F_MARKDOWN, F_JSON, F_HTML, F_BENCHER, F_GAB_SMALLER, F_GAB_BIGGER, F_COUNT };

static const char *const fmt_names[F_COUNT] = { "text",	   "markdown",	  "json",      "html",
						"bencher", "gab-smaller", "gab-bigger" };

struct output {
	enum fmt fmt;
	const char *path; /* "-": stdout */
};

static int render(FILE *f, enum fmt fmt, const struct mmr_comparison *c)
{
	switch (fmt) {
	case F_TEXT:
		return mmr_render_text(f, c);
	case F_MARKDOWN:
		return mmr_render_markdown(f, c);
	case F_JSON:
		return mmr_render_json(f, c);
	case F_HTML:
		return mmr_render_html(f, c);
	case F_BENCHER:
		return mmr_render_bencher(f, c);
	case F_GAB_SMALLER:
		return mmr_render_gab(f, c, MMR_LOWER_IS_BETTER);
	case F_GAB_BIGGER:
		return mmr_render_gab(f, c, MMR_HIGHER_IS_BETTER);
	default:
		return -EINVAL;
	}
}

/* Render into memory, then stdout or an atomically replaced file. */
static int write_output(const struct output *out, const struct mmr_comparison *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int ret;

	if (!f)
		return -errno;
	ret = render(f, out->fmt, c);
	if (fclose(f) && !ret)
		ret = -EIO;
	if (!ret) {
		if (!strcmp(out->path, "-"))
			ret = fwrite(buf, 1, len, stdout) == len && !fflush(stdout) ? 0 : -EIO;
		else
			ret = mmr_write_atomic(out->path, buf, len);
	}
	if (ret)
		mmr_err("%s: cannot write the %s output: %s", out->path, fmt_names[out->fmt],
			strerror(-ret));
	free(buf);
	return ret;
}

static int parse_fmt(const char *s, enum fmt *out)
{
	for (int i = 0; i < F_COUNT; i++)
		if (!strcmp(s, fmt_names[i])) {
			*out = (enum fmt)i;
			return 0;
		}
	if (!strcmp(s, "md")) {
		*out = F_MARKDOWN;
		return 0;
	}
	mmr_err("--format %s: expected one of text, markdown, json, html, bencher, gab-smaller, "
		"gab-bigger",
		s);
	return -EINVAL;
}

/* "5", "5%" or "0.5%" -> 5, 5, 0.5; within [lo, hi]. */
static int parse_pct(const char *opt, const char *s, double lo, double hi, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end != s && *end == '%')
		end++;
	if (end == s || *end || !isfinite(v) || v < lo || v > hi) {
		mmr_err("%s %s: expected a percentage in %g..%g, like 5 or 5%%", opt, s, lo, hi);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_opts(int argc, char **argv, bool single, struct mmr_cmp_opts *o,
		      struct output *outs, size_t *nouts, void (*usage)(FILE *))
{
	static const struct option long_opts[] = {
		{ "alpha", required_argument, NULL, 'a' },
		{ "noise-floor", required_argument, NULL, 'N' },
		{ "max-ci-width", required_argument, NULL, 'W' },
		{ "fdr", no_argument, NULL, 'F' },
		{ "metric", required_argument, NULL, 'm' },
		{ "fail-on", required_argument, NULL, 'x' },
		{ "force", no_argument, NULL, 'k' },
		{ "format", required_argument, NULL, 'f' },
		{ "text", required_argument, NULL, 0x100 + F_TEXT },
		{ "markdown", required_argument, NULL, 0x100 + F_MARKDOWN },
		{ "json", required_argument, NULL, 0x100 + F_JSON },
		{ "html", required_argument, NULL, 0x100 + F_HTML },
		{ "bencher", required_argument, NULL, 0x100 + F_BENCHER },
		{ "gab-smaller", required_argument, NULL, 0x100 + F_GAB_SMALLER },
		{ "gab-bigger", required_argument, NULL, 0x100 + F_GAB_BIGGER },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum fmt stdout_fmt = F_TEXT;
	bool stdout_taken = false;
	int ch;

	while ((ch = getopt_long(argc, argv, "a:m:f:h", long_opts, NULL)) != -1) {
		if (single && strchr("aNWFxk", ch)) {
			mmr_err("report: %s applies to `mmrepro compare` only", argv[optind - 1]);
			return MMR_EXIT_USAGE;
		}
		switch (ch) {
		case 'a': {
			char *end;

			o->alpha = strtod(optarg, &end);
			if (end == optarg || *end || !(o->alpha > 0 && o->alpha < 0.5)) {
				mmr_err("--alpha %s: expected a probability in (0, 0.5), like 0.05",
					optarg);
				return MMR_EXIT_USAGE;
			}
			break;
		}
		case 'N':
			if (parse_pct("--noise-floor", optarg, 0, 100, &o->noise_floor_pct))
				return MMR_EXIT_USAGE;
			break;
		case 'W':
			if (parse_pct("--max-ci-width", optarg, 0.01, 10000, &o->max_ci_width_pct))
				return MMR_EXIT_USAGE;
			break;
		case 'F':
			o->fdr = true;
			break;
		case 'm':
			o->metrics[o->nmetrics++] = optarg;
			break;
		case 'x':
			if (!strcmp(optarg, "any"))
				o->fail_on_pct = 0;
			else if (!strcmp(optarg, "never"))
				o->fail_on_pct = -1;
			else if (parse_pct("--fail-on", optarg, 0.001, 10000, &o->fail_on_pct))
				return MMR_EXIT_USAGE;
			break;
		case 'k':
			o->force = true;
			break;
		case 'f':
			if (parse_fmt(optarg, &stdout_fmt))
				return MMR_EXIT_USAGE;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			if (ch >= 0x100 && ch < 0x100 + F_COUNT) {
				outs[*nouts].fmt = (enum fmt)(ch - 0x100);
				outs[(*nouts)++].path = optarg;
				stdout_taken |= !strcmp(optarg, "-");
				break;
			}
			usage(stderr);
			return MMR_EXIT_USAGE;
		}
	}
	/* stdout gets --format (text by default) unless a file option claimed it */
	if (!stdout_taken) {
		outs[*nouts].fmt = stdout_fmt;
		outs[(*nouts)++].path = "-";
	}
	return 0;
}

int mmr_cmp_main(int argc, char **argv, bool single, void (*usage)(FILE *))
{
	struct mmr_comparison c = { 0 };
	struct output *outs = calloc((size_t)argc + 2, sizeof(*outs));
	const char **metrics = calloc((size_t)argc + 1, sizeof(char *));
	size_t nouts = 0, nfiles;
	char err[2048];
	json_t *schema = NULL;
	int ret;

	c.o = (struct mmr_cmp_opts){
		.alpha = 0.05, .noise_floor_pct = 1, .max_ci_width_pct = 20, .metrics = metrics
	};
	if (!outs || !metrics) {
		ret = MMR_EXIT_INTERNAL;
		goto out;
	}
	ret = parse_opts(argc, argv, single, &c.o, outs, &nouts, usage);
	if (ret) {
		ret = ret < 0 ? MMR_EXIT_OK : ret;
		goto out;
	}
	nfiles = (size_t)(argc - optind);
	if (single ? nfiles != 1 : nfiles < 2) {
		mmr_err(single ? "report: which report? one REPORT.json (see `mmrepro report "
				 "--help`)"
			       : "compare: needs BASE.json and NEW.json (see `mmrepro compare "
				 "--help`)");
		ret = MMR_EXIT_USAGE;
		goto out;
	}
	schema = mmr_jschema_load("report.schema.json", err, sizeof(err));
	if (!schema) {
		mmr_err("%s", err);
		ret = MMR_EXIT_INTERNAL;
		goto out;
	}
	c.reports = calloc(nfiles, sizeof(*c.reports));
	if (!c.reports) {
		ret = MMR_EXIT_INTERNAL;
		goto out;
	}
	for (size_t i = 0; i < nfiles; i++) {
		int lret = mmr_cmp_load(argv[optind + i], schema, &c.reports[c.nreports], err,
					sizeof(err));

		if (lret) {
			mmr_err("%s", err);
			ret = ret ? ret : lret;
		} else {
			c.nreports++;
		}
	}
	if (ret)
		goto out;
	if (mmr_compare_build(&c)) {
		mmr_err("out of memory");
		ret = MMR_EXIT_INTERNAL;
		goto out;
	}
	{
		size_t i;
		json_t *e;

		json_array_foreach (c.errors, i, e)
			mmr_err("not comparable: %s", json_string_value(e));
	}
	for (size_t i = 0; i < nouts; i++)
		if (write_output(&outs[i], &c))
			ret = MMR_EXIT_INTERNAL;
	if (!ret)
		ret = c.exit_code;
out:
	mmr_compare_free(&c);
	json_decref(schema);
	free(outs);
	free(metrics);
	return ret;
}
