// SPDX-License-Identifier: GPL-2.0-only
/* The status reply: what moatd and the data plane say about themselves. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static void put_generation(struct wire_writer *w, const struct moat_gen_info *g)
{
	wire_key(w, "generation");
	wire_map_open(w);
	wire_put_uint(w, "generation", g->generation);
	wire_put_uint(w, "applied_ns", g->applied_ns);
	wire_put_bin(w, "hash", g->hash, sizeof(g->hash));
	wire_put_uint(w, "rules", g->nrules);
	wire_put_uint(w, "terms", g->nterms);
	wire_put_str(w, "policy", g->policy_drop ? "drop" : "allow");
	wire_put_uint(w, "prog_id", g->prog_id);
	wire_put_uint(w, "compile_ns", g->compile_ns);
	wire_map_close(w);
}

static void put_iface(struct wire_writer *w, const struct moat_dp_iface *i)
{
	wire_map_open(w);
	wire_put_str(w, "name", i->name);
	wire_put_uint(w, "ifindex", i->ifindex);
	wire_put_bool(w, "attached", i->attached);
	wire_put_str(w, "mode", i->generic ? "generic" : "native");
	wire_put_bool(w, "dispatcher", i->dispatcher);
	wire_put_bool(w, "direct", i->direct);
	wire_put_uint(w, "prog_id", i->prog_id);
	wire_map_close(w);
}

static void put_features(struct wire_writer *w,
			 const struct moat_dp_features *f)
{
	wire_key(w, "features");
	wire_map_open(w);
	wire_put_bool(w, "btf", f->btf);
	wire_put_bool(w, "bpf_loop", f->bpf_loop);
	wire_put_bool(w, "xdp", f->xdp);
	wire_put_bool(w, "tail_calls", f->tail_calls);
	wire_put_bool(w, "xdp_load_bytes", f->xdp_load_bytes);
	wire_put_bool(w, "mmap_arrays", f->mmap_arrays);
	wire_put_bool(w, "dispatcher", f->dispatcher);
	wire_put_str(w, "dispatcher_error", f->dispatcher_error);
	wire_map_close(w);
}

static void put_cp(struct wire_writer *w, const struct ctl_cp *cp)
{
	wire_key(w, "controlplane");
	wire_map_open(w);
	wire_put_str(w, "address", cp->address);
	wire_put_str(w, "state", cp->state);
	wire_put_str(w, "host_id", cp->host_id);
	wire_put_str(w, "workspace", cp->workspace);
	wire_key(w, "last_heartbeat");
	wire_int(w, cp->last_heartbeat);
	wire_put_str(w, "last_error", cp->last_error);
	if (cp->desired_generation || cp->applied_generation) {
		wire_put_uint(w, "desired_generation", cp->desired_generation);
		wire_put_uint(w, "applied_generation", cp->applied_generation);
		wire_put_bool(w, "drift", cp->drift);
		wire_put_str(w, "desired_ruleset", cp->desired_ruleset);
		wire_put_str(w, "apply_error", cp->apply_error);
	}
	wire_map_close(w);
}

void ctl_reply_status(struct wire_writer *w, const struct ctl_status *s)
{
	wire_begin(w, "ok");
	wire_key(w, "moatd");
	wire_map_open(w);
	wire_put_uint(w, "pid", s->moatd.pid);
	wire_put_uint(w, "uptime_ns", s->moatd.uptime_ns);
	wire_put_str(w, "version", s->moatd.version);
	wire_put_str(w, "config", s->moatd.config);
	wire_put_str(w, "ruleset", s->moatd.ruleset);
	wire_put_str(w, "socket", s->moatd.socket);
	wire_map_close(w);
	wire_put_str(w, "instance", s->instance);
	wire_put_str(w, "pin_root", s->pin_root);
	if (s->dp.has_generation)
		put_generation(w, &s->dp.info);
	wire_put_uint(w, "capacity", s->dp.capacity);
	wire_put_uint(w, "slots_used", s->dp.slots_used);
	wire_key(w, "interfaces");
	wire_array_open(w);
	for (int i = 0; i < s->dp.nifaces; i++)
		put_iface(w, &s->dp.ifaces[i]);
	wire_array_close(w);
	put_features(w, &s->features);
	if (s->cp.configured)
		put_cp(w, &s->cp);
}

static int get_daemon(const msgpack_object *o, struct ctl_daemon *d,
		      struct wire_err *e)
{
	const msgpack_object *m;
	int ret = wire_get_map(o, "moatd", &m, e);

	d->running = true;
	if (!ret)
		ret = wire_get_u32(m, "pid", &d->pid, e);
	if (!ret)
		ret = wire_get_uint(m, "uptime_ns", &d->uptime_ns, e);
	if (!ret)
		ret = wire_get_str(m, "version", d->version, sizeof(d->version),
				   e);
	if (!ret)
		ret = wire_get_str(m, "config", d->config, sizeof(d->config),
				   e);
	if (!ret)
		ret = wire_get_str(m, "ruleset", d->ruleset, sizeof(d->ruleset),
				   e);
	if (!ret)
		ret = wire_get_str(m, "socket", d->socket, sizeof(d->socket),
				   e);
	return ret;
}

static int get_generation(const msgpack_object *o, struct moat_dp_status *s,
			  struct wire_err *e)
{
	struct moat_gen_info *g = &s->info;
	const msgpack_object *m;
	uint64_t gen = 0, applied = 0, compile = 0; /* the struct has __u64 */
	const void *hash;
	char policy[8];
	size_t n;
	int ret;

	if (!wire_find(o, "generation"))
		return 0;
	s->has_generation = true;
	ret = wire_get_map(o, "generation", &m, e);
	if (!ret)
		ret = wire_get_uint(m, "generation", &gen, e);
	if (!ret)
		ret = wire_get_uint(m, "applied_ns", &applied, e);
	if (!ret)
		ret = wire_get_bin(m, "hash", &hash, &n, e);
	if (!ret && n != sizeof(g->hash))
		ret = wire_errf(e, "key 'hash' is not %zu bytes long",
				sizeof(g->hash));
	if (!ret) {
		memcpy(g->hash, hash, sizeof(g->hash));
		ret = wire_get_u32(m, "rules", &g->nrules, e);
	}
	if (!ret)
		ret = wire_get_u32(m, "terms", &g->nterms, e);
	if (!ret)
		ret = wire_get_str(m, "policy", policy, sizeof(policy), e);
	if (!ret && strcmp(policy, "drop") && strcmp(policy, "allow"))
		ret = wire_errf(e, "key 'policy' is neither allow nor drop");
	if (!ret) {
		g->policy_drop = !strcmp(policy, "drop");
		ret = wire_get_u32(m, "prog_id", &g->prog_id, e);
	}
	if (!ret)
		ret = wire_get_uint(m, "compile_ns", &compile, e);
	g->generation = gen;
	g->applied_ns = applied;
	g->compile_ns = compile;
	return ret;
}

static int get_iface(const msgpack_object *m, struct moat_dp_iface *i,
		     struct wire_err *e)
{
	char mode[8];
	int ret;

	ret = wire_get_str(m, "name", i->name, sizeof(i->name), e);
	if (!ret)
		ret = wire_get_u32(m, "ifindex", &i->ifindex, e);
	if (!ret)
		ret = wire_get_bool(m, "attached", &i->attached, e);
	if (!ret)
		ret = wire_get_str(m, "mode", mode, sizeof(mode), e);
	if (!ret && strcmp(mode, "native") && strcmp(mode, "generic"))
		ret = wire_errf(e, "key 'mode' is neither native nor generic");
	if (!ret) {
		i->generic = !strcmp(mode, "generic");
		ret = wire_get_bool(m, "dispatcher", &i->dispatcher, e);
	}
	/* optional: a moatd from before direct attachments sends none */
	if (!ret)
		ret = wire_opt_bool(m, "direct", &i->direct, e);
	if (!ret)
		ret = wire_get_u32(m, "prog_id", &i->prog_id, e);
	return ret;
}

static int get_ifaces(const msgpack_object *o, struct moat_dp_status *s,
		      struct wire_err *e)
{
	const msgpack_object_array *a;
	int ret = wire_get_array(o, "interfaces", &a, e);

	if (ret < 0 || !a->size)
		return ret;
	if (a->size > 4096)
		return wire_errf(e, "key 'interfaces' has %u items", a->size);
	s->ifaces = calloc(a->size, sizeof(*s->ifaces));
	if (!s->ifaces)
		return -ENOMEM;
	for (uint32_t i = 0; i < a->size; i++) {
		if (a->ptr[i].type != MSGPACK_OBJECT_MAP)
			return wire_errf(
				e, "key 'interfaces' item %u is not a map", i);
		ret = get_iface(&a->ptr[i], &s->ifaces[i], e);
		if (ret < 0)
			return ret;
		s->nifaces++;
	}
	return 0;
}

static int get_features(const msgpack_object *o, struct moat_dp_features *f,
			struct wire_err *e)
{
	const msgpack_object *m;
	int ret = wire_get_map(o, "features", &m, e);

	if (!ret)
		ret = wire_get_bool(m, "btf", &f->btf, e);
	if (!ret)
		ret = wire_get_bool(m, "bpf_loop", &f->bpf_loop, e);
	if (!ret)
		ret = wire_get_bool(m, "xdp", &f->xdp, e);
	if (!ret)
		ret = wire_get_bool(m, "tail_calls", &f->tail_calls, e);
	if (!ret)
		ret = wire_get_bool(m, "xdp_load_bytes", &f->xdp_load_bytes, e);
	if (!ret)
		ret = wire_get_bool(m, "mmap_arrays", &f->mmap_arrays, e);
	if (!ret)
		ret = wire_get_bool(m, "dispatcher", &f->dispatcher, e);
	if (!ret)
		ret = wire_get_str(m, "dispatcher_error", f->dispatcher_error,
				   sizeof(f->dispatcher_error), e);
	return ret;
}

/* Optional: absent when moatd joins no fleet. */
static int get_cp(const msgpack_object *o, struct ctl_cp *cp,
		  struct wire_err *e)
{
	const msgpack_object *m;
	int ret;

	if (!wire_find(o, "controlplane"))
		return 0;
	cp->configured = true;
	ret = wire_get_map(o, "controlplane", &m, e);
	if (!ret)
		ret = wire_get_str(m, "address", cp->address,
				   sizeof(cp->address), e);
	if (!ret)
		ret = wire_get_str(m, "state", cp->state, sizeof(cp->state), e);
	if (!ret)
		ret = wire_get_str(m, "host_id", cp->host_id,
				   sizeof(cp->host_id), e);
	if (!ret)
		ret = wire_get_str(m, "workspace", cp->workspace,
				   sizeof(cp->workspace), e);
	if (!ret)
		ret = wire_get_int(m, "last_heartbeat", &cp->last_heartbeat, e);
	if (!ret)
		ret = wire_get_str(m, "last_error", cp->last_error,
				   sizeof(cp->last_error), e);
	/* a managed host's desired state: the five together, or none */
	if (ret || !wire_find(m, "desired_generation"))
		return ret;
	ret = wire_get_uint(m, "desired_generation", &cp->desired_generation,
			    e);
	if (!ret)
		ret = wire_get_uint(m, "applied_generation",
				    &cp->applied_generation, e);
	if (!ret)
		ret = wire_get_bool(m, "drift", &cp->drift, e);
	if (!ret)
		ret = wire_get_str(m, "desired_ruleset", cp->desired_ruleset,
				   sizeof(cp->desired_ruleset), e);
	if (!ret)
		ret = wire_get_str(m, "apply_error", cp->apply_error,
				   sizeof(cp->apply_error), e);
	return ret;
}

int ctl_status_decode(const struct wire_msg *m, struct ctl_status *s,
		      struct wire_err *e)
{
	const msgpack_object *o = m->root;
	int ret;

	memset(s, 0, sizeof(*s));
	if (strcmp(m->type, "ok"))
		return wire_errf(e, "reply type '%s' is not ok", m->type);
	ret = get_daemon(o, &s->moatd, e);
	if (!ret)
		ret = wire_get_str(o, "instance", s->instance,
				   sizeof(s->instance), e);
	if (!ret)
		ret = wire_get_str(o, "pin_root", s->pin_root,
				   sizeof(s->pin_root), e);
	if (!ret)
		ret = get_generation(o, &s->dp, e);
	if (!ret)
		ret = wire_get_u32(o, "capacity", &s->dp.capacity, e);
	if (!ret)
		ret = wire_get_u32(o, "slots_used", &s->dp.slots_used, e);
	if (!ret)
		ret = get_ifaces(o, &s->dp, e);
	if (!ret)
		ret = get_features(o, &s->features, e);
	if (!ret)
		ret = get_cp(o, &s->cp, e);
	return ret;
}

void ctl_status_free(struct ctl_status *s)
{
	free(s->dp.ifaces);
	s->dp.ifaces = NULL;
	s->dp.nifaces = 0;
}
