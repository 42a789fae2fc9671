// SPDX-License-Identifier: GPL-2.0-only
/*
 * --push FILE [--pushes N]: once every host has its session, push FILE
 * as a ruleset through the operator API and assign it to the fleet's
 * hosts, then push N more versions, each with one more rule's action
 * turned around (a new text, so a new version and a new generation).
 *
 * For each push the clock starts just before the first request; the
 * hosts note when their desired arrives and their applied leaves
 * (apply.c); and the hosts API is polled, as an operator would, until it
 * says every one of our hosts converged on the version.  It is first
 * asked once every host has answered: a list of 1,000 hosts takes the
 * control plane and us about 0.1 s to make and read, which polling all
 * along would take from the hosts on a machine of two cores.  The
 * requests block, so they run in a thread of their own: the loop's
 * thread goes on serving the hosts meanwhile.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "file.h"
#include "fleet.h"
#include "ruleset.h"

#define SEC 1000000000ull
/* a push not converged by then is a failure, and the last one tried */
#define CONVERGE_TIMEOUT_NS (120 * SEC)

struct fleet_pushing {
	char *text; /* the file, pushed as it is the first time */
	size_t len;
	struct moat_ruleset rs; /* turned around a rule at a time */
	const char **ids; /* our hosts' ids, sorted */
	unsigned nids;
	char assignment[64]; /* its id */
	atomic_bool stop;
};

int fleet_push_init(struct fleet *f)
{
	struct fleet_pushing *p = calloc(1, sizeof(*p));
	struct moat_diags d = { 0 };
	int ret;

	if (!p)
		return -ENOMEM;
	f->pushing = p;
	ret = file_read(f->o.push_file, PROTO_TEXT_MAX, &p->text, &p->len);
	if (ret) {
		fprintf(stderr, "moat-fleet: --push: %s: %s\n", f->o.push_file,
			ret == -EFBIG ?
				"over the 900,000 bytes a desired state may hold" :
				strerror(-ret));
		return ret;
	}
	ret = moat_ruleset_parse(p->text, p->len, &p->rs, &d);
	if (ret == 0 && !p->rs.nrules)
		ret = -EINVAL;
	if (ret) {
		fprintf(stderr,
			"moat-fleet: --push: %s: not a ruleset with rules:\n",
			f->o.push_file);
		moat_diags_print(&d, f->o.push_file, stderr);
	}
	moat_diags_free(&d);
	f->push = calloc(f->o.pushes + 1, sizeof(*f->push));
	if (!ret && !f->push)
		ret = -ENOMEM;
	/* the ruleset's name, and the label that picks our hosts */
	snprintf(f->run_name, sizeof(f->run_name), "fleet-%08x",
		 (unsigned)(fleet_rand(f, 0, 1) * 4294967295.0));
	return ret;
}

void fleet_push_free(struct fleet *f)
{
	struct fleet_pushing *p = f->pushing;

	if (p) {
		free(p->text);
		moat_ruleset_free(&p->rs);
		free(p->ids);
		free(p);
	}
	f->pushing = NULL;
	free(f->push);
	f->push = NULL;
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool ours(const struct fleet_pushing *p, const char *id)
{
	return bsearch(&id, p->ids, p->nids, sizeof(*p->ids), cmp_id);
}

/* The API's answer as JSON, when it is @want; else an error, NULL. */
static struct json_object *call(struct fleet *f, const char *method,
				const char *path, const char *body, long want)
{
	struct json_object *o = NULL;
	char *reply;
	long status;

	if (fleet_api(f, method, path, body, &status, &reply))
		return NULL;
	if (status == want)
		o = json_tokener_parse(reply);
	if (!o)
		fleet_error(f, "%s %s: HTTP %ld: %.200s", method, path, status,
			    reply);
	free(reply);
	return o;
}

static int64_t get_int(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ?
		       json_object_get_int64(v) :
		       0;
}

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) &&
			       json_object_is_type(v, json_type_string) ?
		       json_object_get_string(v) :
		       "";
}

/* {"text": @text}, made before the clock starts: malloc'd, or NULL. */
static char *version_body(const char *text, size_t len)
{
	struct json_object *body = json_object_new_object();
	char *s;

	json_object_object_add(body, "text",
			       json_object_new_string_len(text, (int)len));
	s = strdup(
		json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN));
	json_object_put(body);
	return s;
}

/* A new version of the ruleset; its number, or 0. */
static uint64_t post_version(struct fleet *f, const char *body)
{
	struct json_object *o;
	char path[64];
	int64_t v = 0;

	snprintf(path, sizeof(path), "/rulesets/%s", f->run_name);
	o = call(f, "POST", path, body, 201);
	if (o)
		v = get_int(o, "version");
	json_object_put(o);
	return v > 0 ? (uint64_t)v : 0;
}

/* The ruleset, latest version, to every host with our label. */
static int assign(struct fleet *f)
{
	struct fleet_pushing *p = f->pushing;
	struct json_object *o;
	char body[160];

	snprintf(body, sizeof(body),
		 "{\"ruleset\": \"%s\", \"selector\": \"moat-fleet=%s\"}",
		 f->run_name, f->run_name);
	o = call(f, "POST", "/assignments", body, 201);
	if (o)
		snprintf(p->assignment, sizeof(p->assignment), "%s",
			 get_str(o, "id"));
	json_object_put(o);
	return p->assignment[0] ? 0 : -EIO;
}

/* How many of our hosts the hosts API says converged on @version. */
static int count_converged(struct fleet *f, uint64_t version)
{
	struct json_object *list = call(f, "GET", "/hosts", NULL, 200), *rs;
	int n = 0;

	if (!list || !json_object_is_type(list, json_type_array)) {
		json_object_put(list);
		return -EIO;
	}
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *h = json_object_array_get_idx(list, i);

		if (ours(f->pushing, get_str(h, "id")) &&
		    !strcmp(get_str(h, "config"), "converged") &&
		    json_object_object_get_ex(h, "ruleset", &rs) && rs &&
		    get_int(rs, "version") == (int64_t)version)
			n++;
	}
	json_object_put(list);
	return n;
}

/* Until @n more hosts answered ok since @base, or the time is up. */
static void wait_answers(struct fleet *f, size_t base, unsigned n,
			 uint64_t since_ns)
{
	struct fleet_pushing *p = f->pushing;

	while (!atomic_load(&p->stop) &&
	       atomic_load(&f->napplied_ok) < base + n &&
	       fleet_now_ns() - since_ns < CONVERGE_TIMEOUT_NS)
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
}

static void wait_converged(struct fleet *f, struct fleet_push *u)
{
	struct fleet_pushing *p = f->pushing;
	int n;

	while (!atomic_load(&p->stop)) {
		n = count_converged(f, u->version);
		u->polls++;
		if (n < 0)
			return;
		u->converged = (unsigned)n;
		if (u->converged == p->nids) {
			u->converged_ns = fleet_now_ns();
			u->cp_rss_kib = fleet_proc_rss(f->o.cp_pid);
			return;
		}
		if (fleet_now_ns() - u->replied_ns > CONVERGE_TIMEOUT_NS) {
			fleet_error(
				f,
				"push of version %llu: %u of %u hosts converged after %llu s",
				(unsigned long long)u->version, u->converged,
				p->nids, CONVERGE_TIMEOUT_NS / SEC);
			return;
		}
		nanosleep(&(struct timespec){ .tv_nsec = FLEET_POLL_NS }, NULL);
	}
}

/* Push @k: the file itself first, then one more rule turned around. */
static int push_one(struct fleet *f, unsigned k)
{
	struct fleet_pushing *p = f->pushing;
	struct fleet_push *u = &f->push[k];
	size_t base = atomic_load(&f->napplied_ok);
	char *text = p->text, *body;
	struct moat_rule *r;

	if (k) {
		r = &p->rs.rules[(k - 1) % p->rs.nrules];
		r->action = r->action == MOAT_DROP ? MOAT_ALLOW : MOAT_DROP;
		text = moat_ruleset_format(&p->rs);
	}
	body = text ? version_body(text, k ? strlen(text) : p->len) : NULL;
	if (text != p->text)
		free(text);
	if (!body)
		return -ENOMEM;
	u->t0_ns = fleet_now_ns();
	u->version = post_version(f, body);
	free(body);
	if (!u->version || (k == 0 && assign(f)))
		return -EIO;
	u->replied_ns = fleet_now_ns();
	fleet_progress("push %u: version %llu in %.0f ms; waiting for %u hosts",
		       k + 1, (unsigned long long)u->version,
		       (double)(u->replied_ns - u->t0_ns) / 1e6, p->nids);
	wait_answers(f, base, p->nids, u->replied_ns);
	wait_converged(f, u);
	return u->converged_ns ? 0 : -ETIMEDOUT;
}

static void *push_main(void *arg)
{
	struct fleet *f = arg;
	struct fleet_pushing *p = f->pushing;
	char path[96];

	for (unsigned k = 0; k <= f->o.pushes && !atomic_load(&p->stop); k++) {
		f->npush = k + 1;
		if (push_one(f, k))
			break;
	}
	/* a control plane of someone else's: leave no assignment behind */
	if (p->assignment[0] && !f->o.controlplane) {
		snprintf(path, sizeof(path), "/assignments/%s", p->assignment);
		json_object_put(call(f, "DELETE", path, NULL, 200));
	}
	atomic_store(&f->push_done, true);
	return NULL;
}

int fleet_push_start(struct fleet *f)
{
	struct fleet_pushing *p = f->pushing;
	int ret;

	p->ids = calloc(f->o.hosts, sizeof(*p->ids));
	if (!p->ids)
		return -ENOMEM;
	for (unsigned i = 0; i < f->o.hosts; i++)
		if (f->hosts[i].host_id[0])
			p->ids[p->nids++] = f->hosts[i].host_id;
	qsort(p->ids, p->nids, sizeof(*p->ids), cmp_id);
	f->push_hosts = p->nids;
	f->push_rss_kib = fleet_proc_rss(f->o.cp_pid);
	fleet_progress(
		"pushing %s (%zu rules) to %u hosts, then %u more versions",
		f->o.push_file, p->rs.nrules, p->nids, f->o.pushes);
	ret = -pthread_create(&f->push_thread, NULL, push_main, f);
	f->push_started = ret == 0;
	return ret;
}

void fleet_push_join(struct fleet *f)
{
	if (!f->push_started)
		return;
	atomic_store(&f->pushing->stop, true);
	pthread_join(f->push_thread, NULL);
	f->push_started = false;
}
