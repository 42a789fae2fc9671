// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static const char *const type_names[] = {
	[CTL_APPLY] = "apply",
	[CTL_STATUS] = "status",
	[CTL_DETACH] = "detach",
	[CTL_RELOAD] = "reload",
};

#define NTYPES (sizeof(type_names) / sizeof(type_names[0]))

const char *ctl_type_name(enum ctl_type t)
{
	return (size_t)t < NTYPES ? type_names[t] : "?";
}

bool ctl_instance_valid(const char *s, size_t n)
{
	if (n == 0 || n > CTL_INSTANCE_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		bool alnum = (ch >= 'a' && ch <= 'z') ||
			     (ch >= 'A' && ch <= 'Z') ||
			     (ch >= '0' && ch <= '9');

		if (!alnum && (i == 0 || (ch != '_' && ch != '.' && ch != '-')))
			return false;
	}
	return true;
}

int ctl_request_decode(const struct wire_msg *m, struct ctl_request *r,
		       struct wire_err *e)
{
	const msgpack_object *o = m->root;
	size_t t;
	int ret;

	memset(r, 0, sizeof(*r));
	for (t = 0; t < NTYPES; t++) {
		if (!strcmp(m->type, type_names[t]))
			break;
	}
	if (t == NTYPES)
		return wire_errf(e, "unknown request type '%s'", m->type);
	r->type = (enum ctl_type)t;

	switch (r->type) {
	case CTL_APPLY:
		ret = wire_get_strv(o, "text", &r->text, &r->text_len, e);
		if (!ret)
			ret = wire_get_str(o, "name", r->name, sizeof(r->name),
					   e);
		if (!ret)
			ret = wire_opt_bool(o, "force", &r->force, e);
		if (!ret)
			ret = wire_opt_bool(o, "analyzed", &r->analyzed, e);
		return ret;
	case CTL_DETACH:
		return wire_get_str(o, "iface", r->iface, sizeof(r->iface), e);
	case CTL_STATUS:
	case CTL_RELOAD:
		return 0;
	}
	return 0;
}

void ctl_request_encode(struct wire_writer *w, const struct ctl_request *r)
{
	wire_begin(w, ctl_type_name(r->type));
	switch (r->type) {
	case CTL_APPLY:
		wire_key(w, "text");
		wire_strn(w, r->text, r->text_len);
		wire_put_str(w, "name", r->name);
		if (r->force)
			wire_put_bool(w, "force", true);
		if (r->analyzed)
			wire_put_bool(w, "analyzed", true);
		break;
	case CTL_DETACH:
		wire_put_str(w, "iface", r->iface);
		break;
	case CTL_STATUS:
	case CTL_RELOAD:
		break;
	}
}

static void put_diags(struct wire_writer *w, const struct moat_diags *d,
		      const char *file)
{
	if (file && file[0])
		wire_put_str(w, "file", file);
	wire_key(w, "diags");
	wire_array_open(w);
	for (size_t i = 0; d && i < d->n; i++) {
		wire_map_open(w);
		wire_put_str(w, "severity",
			     d->v[i].severity == MOAT_ERROR ? "error" :
							      "warning");
		wire_put_uint(w, "line", d->v[i].line);
		wire_put_uint(w, "col", d->v[i].col);
		wire_put_str(w, "msg", d->v[i].msg);
		wire_map_close(w);
	}
	wire_array_close(w);
}

void ctl_reply_error(struct wire_writer *w, const char *msg,
		     const struct moat_diags *d, const char *file)
{
	wire_begin(w, "error");
	wire_put_str(w, "msg", msg);
	put_diags(w, d, file);
}

void ctl_reply_applied(struct wire_writer *w, const struct moat_apply_stats *st,
		       const struct moat_diags *d, const char *file)
{
	wire_begin(w, "ok");
	wire_put_uint(w, "generation", st->generation);
	wire_key(w, "stats");
	wire_map_open(w);
	wire_put_uint(w, "parse_ns", st->parse_ns);
	wire_put_uint(w, "compile_ns", st->compile_ns);
	wire_put_uint(w, "load_ns", st->load_ns);
	wire_put_uint(w, "switch_ns", st->switch_ns);
	wire_put_uint(w, "total_ns", st->total_ns);
	wire_put_uint(w, "enforce_ns", st->enforce_ns);
	wire_put_uint(w, "rules", st->nrules);
	wire_put_uint(w, "terms", st->nterms);
	wire_put_uint(w, "lists", st->nlists);
	wire_put_uint(w, "max_list", st->max_list);
	wire_put_uint(w, "map_bytes", st->map_bytes);
	wire_map_close(w);
	put_diags(w, d, file);
}

void ctl_reply_detached(struct wire_writer *w, const char *iface)
{
	wire_begin(w, "ok");
	wire_put_str(w, "iface", iface);
}

static int get_diags(const msgpack_object *o, struct ctl_reply *r,
		     struct wire_err *e)
{
	struct moat_diags *d = &r->diags;
	const msgpack_object_array *a;
	int ret = 0;

	if (wire_find(o, "file"))
		ret = wire_get_str(o, "file", r->file, sizeof(r->file), e);
	if (!ret)
		ret = wire_get_array(o, "diags", &a, e);
	if (ret < 0)
		return ret;
	if (!a->size)
		return 0;
	d->v = calloc(a->size, sizeof(*d->v));
	if (!d->v)
		return -ENOMEM;
	for (uint32_t i = 0; i < a->size; i++) {
		const msgpack_object *it = &a->ptr[i];
		struct moat_diag *g = &d->v[i];
		char sev[16];

		if (it->type != MSGPACK_OBJECT_MAP)
			return wire_errf(e, "key 'diags' item %u is not a map",
					 i);
		ret = wire_get_str(it, "severity", sev, sizeof(sev), e);
		if (!ret)
			ret = wire_get_u32(it, "line", &g->line, e);
		if (!ret)
			ret = wire_get_u32(it, "col", &g->col, e);
		if (!ret)
			ret = wire_get_str(it, "msg", g->msg, sizeof(g->msg),
					   e);
		if (ret < 0)
			return ret;
		if (!strcmp(sev, "error"))
			g->severity = MOAT_ERROR;
		else if (!strcmp(sev, "warning"))
			g->severity = MOAT_WARNING;
		else
			return wire_errf(
				e,
				"key 'severity' is neither error nor warning: '%s'",
				sev);
		d->n++;
		if (g->severity == MOAT_ERROR)
			d->nerrors++;
	}
	return 0;
}

static int get_stats(const msgpack_object *o, struct moat_apply_stats *st,
		     struct wire_err *e)
{
	const msgpack_object *s;
	int ret;

	ret = wire_get_uint(o, "generation", &st->generation, e);
	if (!ret)
		ret = wire_get_map(o, "stats", &s, e);
	if (!ret)
		ret = wire_get_uint(s, "parse_ns", &st->parse_ns, e);
	if (!ret)
		ret = wire_get_uint(s, "compile_ns", &st->compile_ns, e);
	if (!ret)
		ret = wire_get_uint(s, "load_ns", &st->load_ns, e);
	if (!ret)
		ret = wire_get_uint(s, "switch_ns", &st->switch_ns, e);
	if (!ret)
		ret = wire_get_uint(s, "total_ns", &st->total_ns, e);
	/* a moatd from before it does not send it */
	if (!ret && wire_find(s, "enforce_ns"))
		ret = wire_get_uint(s, "enforce_ns", &st->enforce_ns, e);
	if (!ret)
		ret = wire_get_u32(s, "rules", &st->nrules, e);
	if (!ret)
		ret = wire_get_u32(s, "terms", &st->nterms, e);
	if (!ret)
		ret = wire_get_u32(s, "lists", &st->nlists, e);
	if (!ret)
		ret = wire_get_u32(s, "max_list", &st->max_list, e);
	if (!ret)
		ret = wire_get_uint(s, "map_bytes", &st->map_bytes, e);
	return ret;
}

int ctl_reply_decode(const struct wire_msg *m, enum ctl_type req,
		     struct ctl_reply *r, struct wire_err *e)
{
	const msgpack_object *o = m->root;
	char iface[MOAT_IFNAME_MAX + 1];
	int ret;

	memset(r, 0, sizeof(*r));
	if (!strcmp(m->type, "error")) {
		ret = wire_get_str(o, "msg", r->msg, sizeof(r->msg), e);
		return ret < 0 ? ret : get_diags(o, r, e);
	}
	if (strcmp(m->type, "ok"))
		return wire_errf(e, "unknown reply type '%s'", m->type);
	r->ok = true;
	switch (req) {
	case CTL_APPLY:
	case CTL_RELOAD:
		r->has_stats = true;
		ret = get_stats(o, &r->st, e);
		return ret < 0 ? ret : get_diags(o, r, e);
	case CTL_DETACH:
		return wire_get_str(o, "iface", iface, sizeof(iface), e);
	case CTL_STATUS:
		break;
	}
	return 0;
}

void ctl_reply_free(struct ctl_reply *r)
{
	free(r->diags.v);
	memset(&r->diags, 0, sizeof(r->diags));
}
