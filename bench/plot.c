// SPDX-License-Identifier: GPL-2.0-only
/*
 * `moat-bench plot`: PNG plots of the JSON reports, drawn by gnuplot
 * (gnuplot-nox, a Debian package).  The data goes inline, as gnuplot
 * data blocks, so the script is the whole plot; it is written next to
 * the PNG (PREFIX-mpps.gp), so that a plot can be redrawn or restyled
 * by hand.
 */
#include <errno.h>
#include <getopt.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "bench.h"
#include "compare.h"

extern char **environ;

static const char plot_usage[] =
	"usage: moat-bench plot [--run RUN.json] [--apply APPLY.json] --out PREFIX\n"
	"\n"
	"PREFIX-mpps.png: Mpps against rule count, one line per system (moat,\n"
	"each peer, the baseline); PREFIX-apply.png: apply time against rule\n"
	"count, per system.  Both on log scales.  Needs gnuplot.\n";

struct plot {
	const char *title, *ylabel;
	const char *extra; /* more gnuplot settings */
};

/* The position of series @i's system ("nft-sets (afxdp)": nft-sets). */
static int system_index(const struct plot_series *s, int i)
{
	char seen[PLOT_MAX_SERIES][48];
	int n = 0;

	for (int j = 0; j <= i && j < PLOT_MAX_SERIES; j++) {
		int len = (int)strcspn(s[j].name, " "), k = 0;

		while (k < n && (strlen(seen[k]) != (size_t)len ||
				 strncmp(seen[k], s[j].name, (size_t)len)))
			k++;
		if (k == n)
			snprintf(seen[n++], sizeof(seen[0]), "%.*s", len,
				 s[j].name);
		if (j == i)
			return k;
	}
	return 0;
}

static void write_script(FILE *f, const struct plot *p, const char *png,
			 const struct plot_series *s, int n)
{
	fprintf(f,
		"set terminal pngcairo size 960,600 font ',11'\n"
		"set output '%s'\n"
		"set title '%s'\nset xlabel 'rules'\nset ylabel '%s'\n"
		"set logscale xy\nset grid\nset key outside right\n"
		"set format x '10^{%%L}'\n%s\n"
		/* eight colours told apart in print and by most eyes */
		"set linetype 1 lc rgb '#000000'\nset linetype 2 lc rgb '#e69f00'\n"
		"set linetype 3 lc rgb '#56b4e9'\nset linetype 4 lc rgb '#009e73'\n"
		"set linetype 5 lc rgb '#d55e00'\nset linetype 6 lc rgb '#0072b2'\n"
		"set linetype 7 lc rgb '#cc79a7'\nset linetype 8 lc rgb '#999999'\n"
		"set linetype cycle 8\n",
		png, p->title, p->ylabel, p->extra);
	for (int i = 0; i < n; i++) {
		fprintf(f, "$s%d << EOD\n", i);
		for (int k = 0; k < s[i].n; k++)
			fprintf(f, "%g %g\n", s[i].x[k], s[i].y[k]);
		fprintf(f, "EOD\n");
	}
	fprintf(f, "plot ");
	for (int i = 0; i < n; i++) {
		/* one colour per system; AF_XDP dashed, the baselines grey */
		bool base = !strncmp(s[i].name, "baseline", 8);
		bool dashed = strchr(s[i].name, '(') != NULL;

		char colour[32];

		snprintf(colour, sizeof(colour), base ? "rgb '#999999'" : "%d",
			 1 + system_index(s, i));
		fprintf(f,
			"%s$s%d using 1:2 with linespoints lw 2 pt %d lc %s "
			"dt %d title '%s'",
			i ? ", \\\n     " : "", i, 1 + system_index(s, i),
			colour, dashed ? 2 : 1, s[i].name);
	}
	fprintf(f, "\n");
}

static int run_gnuplot(const char *script)
{
	char *argv[] = { "gnuplot", (char *)script, NULL };
	int status, ret;
	pid_t pid;

	ret = posix_spawnp(&pid, "gnuplot", NULL, NULL, argv, environ);
	if (ret) {
		bench_err("cannot run gnuplot (package gnuplot-nox): %s",
			  strerror(ret));
		return -ret;
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		bench_err("gnuplot failed on %s", script);
		return -EIO;
	}
	return 0;
}

static int draw(const char *prefix, const char *what, const struct plot *p,
		const struct plot_series *s, int n)
{
	char png[4096], gp[4096];
	FILE *f;

	if (!n) {
		bench_err("plot %s: nothing to plot", what);
		return -ENODATA;
	}
	snprintf(png, sizeof(png), "%s-%s.png", prefix, what);
	snprintf(gp, sizeof(gp), "%s-%s.gp", prefix, what);
	f = fopen(gp, "w");
	if (!f) {
		bench_err("%s: %s", gp, strerror(errno));
		return -errno;
	}
	write_script(f, p, png, s, n);
	if (fclose(f))
		return -errno;
	bench_progress("plot: %s", png);
	return run_gnuplot(gp);
}

static int load(const char *path, struct json *j)
{
	char err[256];
	int ret = json_load(path, j, err, sizeof(err));

	if (ret)
		bench_err("%s:%s%s", path, ret == -EINVAL ? "" : " ", err);
	return ret;
}

int cmd_plot(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "run", required_argument, NULL, 'r' },
		{ "apply", required_argument, NULL, 'a' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const struct plot mpps = {
		.title =
			"Throughput against rule count (one CPU, veth, spread traffic)",
		.ylabel = "Mpps received",
		.extra = "",
	};
	static const struct plot apply = {
		.title =
			"Ruleset apply time against rule count (text to enforcement)",
		.ylabel = "ms",
		.extra = "",
	};
	const char *run = NULL, *ap = NULL, *out = NULL;
	struct plot_series s[PLOT_MAX_SERIES];
	struct json j = { 0 };
	int c, ret = 0;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			run = optarg;
			break;
		case 'a':
			ap = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			fputs(plot_usage, stdout);
			return BENCH_EXIT_OK;
		default:
			fputs(plot_usage, stderr);
			return BENCH_EXIT_USAGE;
		}
	}
	if (!out || (!run && !ap) || optind < argc) {
		fputs(plot_usage, stderr);
		return BENCH_EXIT_USAGE;
	}
	if (run) {
		ret = load(run, &j) ?:
				      draw(out, "mpps", &mpps, s,
					   plot_mpps_series(&j, s, PLOT_MAX_SERIES));
		json_free(&j);
	}
	if (!ret && ap) {
		ret = load(ap, &j) ?:
				     draw(out, "apply", &apply, s,
					  plot_apply_series(&j, s, PLOT_MAX_SERIES));
		json_free(&j);
	}
	return ret ? BENCH_EXIT_FAIL : BENCH_EXIT_OK;
}
