// SPDX-License-Identifier: GPL-2.0
/*
 * One SVG per metric for the HTML page: every report's samples as a jittered
 * strip over a box (quartiles and median), drawn by one gnuplot run for all
 * metrics (a process per plot would dominate the time of a large page).
 */
#include "mmrepro/compare.h"
#include "mmrepro/util.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char *const colors[] = { "#1f77b4", "#ff7f0e", "#2ca02c",
				      "#d62728", "#9467bd", "#8c564b" };

/* A gnuplot single-quoted string: '' stands for one quote. */
static void quoted(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputc('\'', f);
		if (*s != '\n')
			fputc(*s, f);
	}
	fputc('\'', f);
}

static bool has_samples(const struct mmr_comparison *c, const struct mmr_cmp_row *row)
{
	for (size_t s = 0; s < c->nreports; s++)
		if (row->cells[s].n)
			return true;
	return false;
}

/* Durations read better in the unit of their size: ns -> us/ms/s. */
static double time_scale(const struct mmr_comparison *c, const struct mmr_cmp_row *row,
			 const char **prefix)
{
	static const struct {
		double div;
		const char *prefix;
	} steps[] = { { 1e9, "s" }, { 1e6, "ms" }, { 1e3, "us" } };
	double top = 0;

	*prefix = "ns";
	if (strncmp(row->unit, "ns", 2))
		return 1;
	for (size_t s = 0; s < c->nreports; s++)
		if (row->cells[s].n && row->cells[s].s.median > top)
			top = row->cells[s].s.median;
	for (size_t i = 0; i < MMR_ARRAY_SIZE(steps); i++)
		if (top >= steps[i].div) {
			*prefix = steps[i].prefix;
			return steps[i].div;
		}
	return 1;
}

static void write_plot(FILE *f, const struct mmr_comparison *c, const struct mmr_cmp_row *row,
		       const char *svg)
{
	size_t ns = c->nreports;
	const char *prefix;
	double div = time_scale(c, row, &prefix);
	char *ylabel = strncmp(row->unit, "ns", 2)
			       ? strdup(row->unit)
			       : mmr_strdup_printf("%s%s", prefix, row->unit + 2);

	for (size_t s = 0; s < ns; s++) {
		fprintf(f, "$d%zu << EOD\n", s);
		for (size_t i = 0; i < row->cells[s].n; i++) {
			/* golden-ratio sequence: even, deterministic jitter */
			double frac = (double)i * 0.6180339887;

			frac -= (double)(long)frac;
			fprintf(f, "%.17g %.4f\n", row->cells[s].x[i] / div, (frac - 0.5) * 0.3);
		}
		fprintf(f, "EOD\n");
	}
	fprintf(f, "set output ");
	quoted(f, svg);
	fprintf(f, "\nset title ");
	quoted(f, row->metric);
	fprintf(f, " noenhanced\nset ylabel ");
	quoted(f, ylabel ? ylabel : row->unit);
	free(ylabel);
	fprintf(f, " noenhanced\nset xrange [0.4:%zu.6]\nset xtics (", ns);
	for (size_t s = 0; s < ns; s++) {
		fprintf(f, "%s", s ? ", " : "");
		quoted(f, c->reports[s].label);
		fprintf(f, " %zu", s + 1);
	}
	fprintf(f, ") noenhanced\nplot ");
	for (size_t s = 0, first = 1; s < ns; s++) {
		const char *col = colors[s % MMR_ARRAY_SIZE(colors)];

		if (!row->cells[s].n)
			continue;
		fprintf(f,
			"%s$d%zu using (%zu):1 with boxplot lc rgb '%s' lw 1.5, "
			"$d%zu using (%zu+$2):1 with points pt 7 ps 0.5 lc rgb '%s'",
			first ? "" : ", ", s, s + 1, col, s, s + 1, col);
		first = 0;
	}
	fprintf(f, "\n");
}

static int run_gnuplot(const char *script, const char *log, char *why, size_t whylen)
{
	const char *bin = getenv("MMREPRO_GNUPLOT") ?: "gnuplot";
	char *argv[] = { (char *)bin, (char *)script, NULL };
	posix_spawn_file_actions_t fa;
	int status, ret;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	ret = posix_spawnp(&pid, bin, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (ret) {
		snprintf(why, whylen, "%s: %s (apt-get install gnuplot-nox)", bin, strerror(ret));
		return -ret;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		char *text = mmr_slurp(log, NULL);

		snprintf(why, whylen, "%s failed (status %d): %.200s", bin, status,
			 text ? text : "");
		free(text);
		return WIFEXITED(status) && WEXITSTATUS(status) == 127 ? -ENOENT : -EIO;
	}
	return 0;
}

static void svg_path(char *buf, size_t len, const char *dir, size_t k, size_t r)
{
	snprintf(buf, len, "%.500s/p%zu_%zu.svg", dir, k, r);
}

int mmr_plot_svgs(const struct mmr_comparison *c, char ****out, char *why, size_t whylen)
{
	const char *tmp = getenv("TMPDIR") ?: "/tmp";
	char dir[512], script[600], log[600], svg[600];
	char ***svgs = calloc(c->ncases + 1, sizeof(*svgs));
	FILE *f;
	int ret = -ENOMEM;

	*out = NULL;
	snprintf(dir, sizeof(dir), "%.400s/mmrepro-plot-XXXXXX", tmp);
	if (!svgs)
		return -ENOMEM;
	if (!mkdtemp(dir)) {
		snprintf(why, whylen, "%s: %s", dir, strerror(errno));
		free(svgs);
		return -errno;
	}
	snprintf(script, sizeof(script), "%.500s/plots.gp", dir);
	snprintf(log, sizeof(log), "%.500s/gnuplot.log", dir);
	f = fopen(script, "w");
	if (!f) {
		ret = -errno;
		goto out;
	}
	fprintf(f, "set terminal svg size 520,300 font 'sans,11' background rgb 'white'\n"
		   "unset key\nset grid ytics\nset style boxplot nooutliers\n"
		   "set boxwidth 0.4\nset style fill empty\nset border 3\nset xtics nomirror\n"
		   "set ytics nomirror\nset format y '%%g'\n");
	for (size_t k = 0; k < c->ncases; k++)
		for (size_t r = 0; r < c->cases[k].nrows; r++)
			if (has_samples(c, &c->cases[k].rows[r])) {
				svg_path(svg, sizeof(svg), dir, k, r);
				write_plot(f, c, &c->cases[k].rows[r], svg);
			}
	if (fclose(f)) {
		ret = -errno;
		goto out;
	}
	ret = run_gnuplot(script, log, why, whylen);
	for (size_t k = 0; k < c->ncases; k++) {
		svgs[k] = calloc(c->cases[k].nrows + 1, sizeof(char *));
		if (!svgs[k]) {
			ret = -ENOMEM;
			continue;
		}
		for (size_t r = 0; r < c->cases[k].nrows; r++) {
			char *text;

			svg_path(svg, sizeof(svg), dir, k, r);
			text = ret ? NULL : mmr_slurp(svg, NULL);
			unlink(svg);
			/* inline SVG: drop the XML prolog and DOCTYPE before <svg */
			if (text && strstr(text, "<svg")) {
				char *start = strstr(text, "<svg");

				memmove(text, start, strlen(start) + 1);
				svgs[k][r] = text;
			} else {
				free(text);
			}
		}
	}
out:
	unlink(script);
	unlink(log);
	rmdir(dir);
	if (ret) {
		if (!*why)
			snprintf(why, whylen, "cannot draw the plots: %s", strerror(-ret));
		mmr_plot_free(c, svgs);
		return ret;
	}
	*out = svgs;
	return 0;
}

void mmr_plot_free(const struct mmr_comparison *c, char ***svgs)
{
	if (!svgs)
		return;
	for (size_t k = 0; k < c->ncases; k++) {
		if (!svgs[k])
			continue;
		for (size_t r = 0; r < c->cases[k].nrows; r++)
			free(svgs[k][r]);
		free(svgs[k]);
	}
	free(svgs);
}
