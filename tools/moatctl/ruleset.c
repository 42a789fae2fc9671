// SPDX-License-Identifier: GPL-2.0-only
/* moatctl ruleset check|fmt|apply FILE */
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyze.h"
#include "compile.h"
#include "file.h"
#include "json.h"
#include "moatctl.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: moatctl [-j] ruleset check FILE\n"
		"       moatctl ruleset fmt [-w] FILE\n"
		"       moatctl [-j] ruleset apply [--force] FILE\n"
		"\n"
		"  check   parse and compile FILE and report every error and warning,\n"
		"          shadowed and redundant rules and what the data plane cannot\n"
		"          hold among them; changes nothing\n"
		"  fmt     print FILE in canonical form; -w rewrites FILE instead (only\n"
		"          when it changes)\n"
		"  apply   have moatd make FILE the running generation; moatctl checks\n"
		"          it meanwhile and adds its warnings\n"
		"\n"
		"The control plane's rulesets: moatctl ruleset push|list|show|versions|\n"
		"counters (moatctl ruleset list --help).\n"
		"\n"
		"FILE '-' is standard input (check and fmt).  The language is in\n"
		"docs/ruleset.md.\n");
}

/* A parsed file: its text, its ruleset, its diags. */
struct source {
	const char *name;
	char *text;
	size_t len;
	struct moat_ruleset rs;
	struct moat_diags d;
	int ret; /* of the parse */
};

/* @path's text into @s, not parsed yet; prints why not. */
static int load_text(struct source *s, const char *path)
{
	int ret;

	memset(s, 0, sizeof(*s));
	s->name = strcmp(path, "-") ? path : "<stdin>";
	if (!strcmp(path, "-"))
		ret = file_read_fd(STDIN_FILENO, CTL_TEXT_MAX, &s->text,
				   &s->len);
	else
		ret = file_read(path, CTL_TEXT_MAX, &s->text, &s->len);
	if (ret == -EFBIG)
		return fail("%s: larger than %u bytes", s->name, CTL_TEXT_MAX);
	if (ret < 0)
		return fail("cannot read %s: %s", s->name, strerror(-ret));
	return EXIT_OK;
}

static int load(struct source *s, const char *path)
{
	int ret = load_text(s, path);

	if (!ret)
		s->ret = moat_ruleset_parse(s->text, s->len, &s->rs, &s->d);
	return ret;
}

static void unload(struct source *s)
{
	moat_ruleset_free(&s->rs);
	moat_diags_free(&s->d);
	free(s->text);
}

static void json_diags(struct json *j, const struct moat_diags *d)
{
	json_key(j, "diags");
	json_arr_open(j);
	for (size_t i = 0; i < d->n; i++) {
		json_obj_open(j);
		json_kstr(j, "severity",
			  d->v[i].severity == MOAT_ERROR ? "error" : "warning");
		json_kuint(j, "line", d->v[i].line);
		json_kuint(j, "col", d->v[i].col);
		json_kstr(j, "msg", d->v[i].msg);
		json_obj_close(j);
	}
	json_arr_close(j);
}

/* @found's diags after @d's, warnings counted as moatd would. */
static void add_findings(struct moat_diags *d, const struct moat_diags *found)
{
	size_t kept = 0;

	for (size_t i = 0; i < found->n; i++) {
		const struct moat_diag *x = &found->v[i];

		kept += x->severity == MOAT_WARNING;
		moat_diag_add(d, x->severity, x->line, x->col, "%s", x->msg);
	}
	d->nwarnings += found->nwarnings - kept;
}

/*
 * Work on a ruleset done on a thread of its own, beside other work: its
 * findings in d, its result in ret.
 */
struct beside {
	const struct moat_ruleset *rs;
	struct moat_diags d;
	int ret;
};

/*
 * check compiles the ruleset as moatd would, without a kernel, so that a
 * ruleset over the data plane's capacity is an error before any apply;
 * beside the search for shadowed rules.
 */
static void *compile_only(void *arg)
{
	struct beside *c = arg;
	struct moat_image img;

	c->ret = moat_compile(c->rs, NULL, &img, &c->d);
	if (c->ret == 0)
		moat_image_free(&img);
	else if (!c->d.nerrors)
		moat_diag_add(&c->d, MOAT_ERROR, 0, 0, "cannot compile: %s",
			      strerror(-c->ret));
	return NULL;
}

static int check(struct moatctl *g, const char *path)
{
	struct beside c = { 0 };
	struct source s;
	struct json j;
	pthread_t th;
	bool threaded = false;
	int ret = load(&s, path);

	if (ret)
		return ret;
	/* only a ruleset that parses has rules to compile and compare */
	if (s.ret == 0) {
		c.rs = &s.rs;
		threaded = pthread_create(&th, NULL, compile_only, &c) == 0;
		if (!threaded)
			compile_only(&c);
		ret = moat_ruleset_analyze(&s.rs, &s.d);
		if (threaded)
			pthread_join(th, NULL);
		add_findings(&s.d, &c.d);
		moat_diags_free(&c.d);
		if (c.ret < 0)
			s.ret = c.ret;
	}
	if (ret < 0) {
		unload(&s);
		return fail("cannot analyse %s: %s", s.name, strerror(-ret));
	}
	if (g->json) {
		json_init(&j, stdout);
		json_obj_open(&j);
		json_kstr(&j, "file", s.name);
		json_kbool(&j, "ok", s.ret == 0);
		json_kuint(&j, "rules", s.ret == 0 ? s.rs.nrules : 0);
		/* diags holds the first few: this says how many there were */
		json_kuint(&j, "warnings", s.d.nwarnings);
		json_diags(&j, &s.d);
		json_obj_close(&j);
		json_end(&j);
	} else {
		moat_diags_print(&s.d, s.name, stderr);
		if (s.ret == 0)
			printf("%s: %zu rules OK\n", s.name, s.rs.nrules);
	}
	ret = s.ret == 0 ? EXIT_OK : EXIT_USER;
	unload(&s);
	return ret;
}

static int fmt(const char *path, bool write)
{
	struct source s;
	struct stat st;
	char *canon = NULL;
	int ret;

	if (write && !strcmp(path, "-"))
		return usage_error("ruleset", "fmt -w needs a file, not '-'");
	ret = load(&s, path);
	if (ret)
		return ret;
	moat_diags_print(&s.d, s.name, stderr);
	if (s.ret < 0) {
		ret = EXIT_USER;
		goto out;
	}
	canon = moat_ruleset_format(&s.rs);
	if (!canon) {
		ret = fail("cannot format %s: %s", s.name, strerror(errno));
		goto out;
	}
	if (!write) {
		fputs(canon, stdout);
		ret = EXIT_OK;
		goto out;
	}
	/* rewrite only on change: the file's mtime means something */
	if (strlen(canon) == s.len && !memcmp(canon, s.text, s.len)) {
		ret = EXIT_OK;
		goto out;
	}
	if (stat(path, &st) < 0)
		st.st_mode = 0644;
	ret = file_write_atomic(path, canon, strlen(canon), st.st_mode & 07777,
				true);
	if (ret < 0) {
		ret = fail("cannot rewrite %s: %s", path, strerror(-ret));
		goto out;
	}
	printf("%s: reformatted\n", path);
	ret = EXIT_OK;
out:
	free(canon);
	unload(&s);
	return ret;
}

static void print_applied(struct moatctl *g, const char *name,
			  const struct ctl_reply *r)
{
	const struct moat_apply_stats *st = &r->st;
	struct json j;

	if (!g->json) {
		moat_diags_print(&r->diags, name, stderr);
		printf("%s: generation %llu in force after %.1f ms, applied in %.1f ms (%u rules, %u terms; parse %.1f, compile %.1f, load %.1f, switch %.1f ms)\n",
		       name, (unsigned long long)st->generation,
		       (double)st->enforce_ns / 1e6, (double)st->total_ns / 1e6,
		       st->nrules, st->nterms,
		       (double)st->parse_ns / 1e6, (double)st->compile_ns / 1e6,
		       (double)st->load_ns / 1e6, (double)st->switch_ns / 1e6);
		return;
	}
	json_init(&j, stdout);
	json_obj_open(&j);
	json_kstr(&j, "file", name);
	json_kbool(&j, "ok", true);
	json_kuint(&j, "generation", st->generation);
	json_key(&j, "stats");
	json_obj_open(&j);
	json_kuint(&j, "parse_ns", st->parse_ns);
	json_kuint(&j, "compile_ns", st->compile_ns);
	json_kuint(&j, "load_ns", st->load_ns);
	json_kuint(&j, "switch_ns", st->switch_ns);
	json_kuint(&j, "total_ns", st->total_ns);
	json_kuint(&j, "enforce_ns", st->enforce_ns);
	json_kuint(&j, "rules", st->nrules);
	json_kuint(&j, "terms", st->nterms);
	json_kuint(&j, "lists", st->nlists);
	json_kuint(&j, "max_list", st->max_list);
	json_kuint(&j, "map_bytes", st->map_bytes);
	json_obj_close(&j);
	json_diags(&j, &r->diags);
	json_obj_close(&j);
	json_end(&j);
}

/* @who: "moatd: " when moatd refused, "" when we did. */
static void print_refused(struct moatctl *g, const char *name, const char *who,
			  const char *msg, const struct moat_diags *d)
{
	struct json j;

	if (!g->json) {
		moat_diags_print(d, name, stderr);
		fail("%s%s", who, msg);
		return;
	}
	json_init(&j, stdout);
	json_obj_open(&j);
	json_kstr(&j, "file", name);
	json_kbool(&j, "ok", false);
	json_kstr(&j, "error", msg);
	json_diags(&j, d);
	json_obj_close(&j);
	json_end(&j);
}

/*
 * The file's own parse, and the search for shadowed and redundant rules,
 * beside moatd's apply: at 100,000 rules each takes about as long as the
 * apply, and the reply need not wait for them in turn (docs/moatctl.md).
 */
struct beside_apply {
	struct source *s; /* parsed into */
	struct moat_diags d; /* the search's findings */
	int ret; /* of the search */
};

static void *parse_and_analyze(void *arg)
{
	struct beside_apply *b = arg;
	struct source *s = b->s;

	s->ret = moat_ruleset_parse(s->text, s->len, &s->rs, &s->d);
	if (s->ret == 0)
		b->ret = moat_ruleset_analyze(&s->rs, &b->d);
	return NULL;
}

static int apply(struct moatctl *g, const char *path, bool force)
{
	struct ctl_request req = { .type = CTL_APPLY, .force = force,
				   .analyzed = true };
	struct beside_apply b = { 0 };
	pthread_t th;
	bool threaded, bad_reply;
	struct ctl_reply r = { 0 };
	struct wire_msg m = { 0 };
	struct wire_err e;
	struct source s;
	char *buf = NULL, abs[PATH_MAX];
	int ret;

	if (!strcmp(path, "-"))
		return usage_error("ruleset", "apply needs a file, not '-'");
	ret = load_text(&s, path);
	if (ret)
		return ret;
	req.text = s.text;
	req.text_len = s.len;
	/* moatd logs the name: make it mean something from its side */
	if (!realpath(path, abs))
		snprintf(abs, sizeof(abs), "%s", path);
	snprintf(req.name, sizeof(req.name), "%s", abs);

	b.s = &s;
	threaded = pthread_create(&th, NULL, parse_and_analyze, &b) == 0;
	if (!threaded) {
		/* in turn, then: a file that does not parse is not sent */
		s.ret = moat_ruleset_parse(s.text, s.len, &s.rs, &s.d);
		req.analyzed = false; /* moatd looks, as it does for others */
		ret = s.ret < 0 ? -EINVAL : client_call(g, &req, &m, &buf);
	} else {
		ret = client_call(g, &req, &m, &buf);
		pthread_join(th, NULL);
	}
	bad_reply = ret >= 0 && ctl_reply_decode(&m, CTL_APPLY, &r, &e) < 0;
	/*
	 * A file with errors: moatd refused it too (the same parser), or
	 * was not asked, or is not there; these are the errors to show.
	 */
	if (s.ret < 0 && (ret < 0 || bad_reply || !r.ok)) {
		print_refused(g, s.name, "",
			      "the ruleset has errors; nothing was applied",
			      &s.d);
		ret = EXIT_USER;
		goto out;
	}
	if (ret < 0) {
		ret = client_fail(g, ret);
		goto out;
	}
	if (bad_reply) {
		ret = fail("bad reply from moatd: %s", e.msg);
		goto out;
	}
	if (!r.ok) {
		print_refused(g, s.name, "moatd: ", r.msg, &r.diags);
		ret = EXIT_USER;
		goto out;
	}
	if (s.ret < 0)
		moat_diag_add(&r.diags, MOAT_WARNING, 0, 0,
			      "moatd applied what this moatctl cannot parse (is moatctl older than moatd?); rules not analysed for shadowed ones");
	else if (threaded && b.ret >= 0)
		add_findings(&r.diags, &b.d);
	else if (threaded)
		moat_diag_add(&r.diags, MOAT_WARNING, 0, 0,
			      "rules not analysed for shadowed ones: %s",
			      strerror(-b.ret));
	print_applied(g, s.name, &r);
	ret = EXIT_OK;
out:
	moat_diags_free(&b.d);
	ctl_reply_free(&r);
	wire_msg_free(&m);
	free(buf);
	unload(&s);
	return ret;
}

int cmd_ruleset(struct moatctl *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "write", no_argument, NULL, 'w' },
		{ "force", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool write = false, force = false;
	const char *sub;
	int ch;

	/* push, list, show...: the control plane's rulesets */
	if (argc > 1 && cp_ruleset_verb(argv[1]))
		return cmd_cp_ruleset(g, argc, argv);
	while ((ch = getopt_long(argc, argv, "wjh", opts, NULL)) != -1) {
		switch (ch) {
		case 'w':
			write = true;
			break;
		case 'f':
			force = true;
			break;
		case 'j':
			g->json = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			return usage_hint("ruleset");
		}
	}
	if (optind == argc)
		return usage_error("ruleset", "missing check, fmt or apply");
	sub = argv[optind++];
	if (strcmp(sub, "check") && strcmp(sub, "fmt") && strcmp(sub, "apply"))
		return usage_error("ruleset", "unknown subcommand '%s'", sub);
	if (optind == argc)
		return usage_error("ruleset", "%s: missing FILE", sub);
	if (optind + 1 < argc)
		return usage_error("ruleset", "%s: one FILE only, not '%s'",
				   sub, argv[optind + 1]);
	if (write && strcmp(sub, "fmt"))
		return usage_error("ruleset", "-w is for fmt");
	if (force && strcmp(sub, "apply"))
		return usage_error("ruleset", "--force is for apply");

	if (!strcmp(sub, "check"))
		return check(g, argv[optind]);
	if (!strcmp(sub, "fmt"))
		return fmt(argv[optind], write);
	return apply(g, argv[optind], force);
}
