// SPDX-License-Identifier: GPL-2.0
/* CPU placement with hwloc: slots of a case mapped to PUs, and the topology
 * summary for the fingerprint. */
#include "mmrepro/pin.h"
#include "mmrepro/util.h"

#include <errno.h>
#include <hwloc.h>
#include <sched.h>
#include <stdlib.h>

struct mmr_pinner {
	hwloc_topology_t topo;
	unsigned n;
	int *order; /* OS indexes: [0] main CPU, then others, SMT siblings of main last */
};

unsigned mmr_allowed_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 1;
	return (unsigned)CPU_COUNT(&set);
}

static hwloc_topology_t load_topology(void)
{
	hwloc_topology_t t;

	if (hwloc_topology_init(&t))
		return NULL;
	if (hwloc_topology_load(t)) {
		hwloc_topology_destroy(t);
		return NULL;
	}
	return t;
}

struct mmr_pinner *mmr_pinner_new(int main_cpu)
{
	struct mmr_pinner *p = calloc(1, sizeof(*p));
	hwloc_bitmap_t allowed = hwloc_bitmap_alloc();
	hwloc_obj_t main_pu = NULL, pu = NULL;
	unsigned k = 0;

	if (!p || !allowed)
		goto fail;
	p->topo = load_topology();
	if (!p->topo || hwloc_get_cpubind(p->topo, allowed, HWLOC_CPUBIND_PROCESS))
		goto fail;
	p->n = (unsigned)hwloc_bitmap_weight(allowed);
	p->order = calloc(p->n ? p->n : 1, sizeof(int));
	if (!p->order || !p->n)
		goto fail;
	if (main_cpu >= 0) {
		if (!hwloc_bitmap_isset(allowed, (unsigned)main_cpu)) {
			errno = EINVAL;
			goto fail;
		}
		main_pu = hwloc_get_pu_obj_by_os_index(p->topo, (unsigned)main_cpu);
	} else {
		main_pu =
			hwloc_get_pu_obj_by_os_index(p->topo, (unsigned)hwloc_bitmap_last(allowed));
	}
	if (!main_pu)
		goto fail;
	p->order[k++] = (int)main_pu->os_index;
	/* Other cores first: a helper on main's SMT sibling would share its core. */
	for (int pass = 0; pass < 2; pass++) {
		pu = NULL;
		while ((pu = hwloc_get_next_obj_by_type(p->topo, HWLOC_OBJ_PU, pu))) {
			bool sibling =
				main_pu->parent &&
				hwloc_bitmap_isincluded(pu->cpuset, main_pu->parent->cpuset) &&
				main_pu->parent->type == HWLOC_OBJ_CORE;

			if (pu == main_pu || !hwloc_bitmap_isset(allowed, pu->os_index))
				continue;
			if ((pass == 0) == !sibling && k < p->n)
				p->order[k++] = (int)pu->os_index;
		}
	}
	p->n = k;
	hwloc_bitmap_free(allowed);
	return p;
fail:
	if (allowed)
		hwloc_bitmap_free(allowed);
	mmr_pinner_free(p);
	return NULL;
}

void mmr_pinner_free(struct mmr_pinner *p)
{
	if (!p)
		return;
	if (p->topo)
		hwloc_topology_destroy(p->topo);
	free(p->order);
	free(p);
}

unsigned mmr_pinner_npus(const struct mmr_pinner *p)
{
	return p->n;
}

int mmr_pinner_cpu(const struct mmr_pinner *p, unsigned slot)
{
	return p->order[slot % p->n];
}

int mmr_pinner_bind(struct mmr_pinner *p, unsigned slot)
{
	int cpu = mmr_pinner_cpu(p, slot);
	hwloc_obj_t pu = hwloc_get_pu_obj_by_os_index(p->topo, (unsigned)cpu);

	if (!pu)
		return -ENOENT;
	if (hwloc_set_cpubind(p->topo, pu->cpuset, HWLOC_CPUBIND_THREAD | HWLOC_CPUBIND_STRICT) &&
	    hwloc_set_cpubind(p->topo, pu->cpuset, HWLOC_CPUBIND_THREAD))
		return -errno;
	return cpu;
}

static json_t *caches(hwloc_topology_t t, hwloc_obj_type_t type)
{
	hwloc_obj_t o = hwloc_get_obj_by_type(t, type, 0);
	json_t *c = json_object();

	json_object_set_new(c, "count", json_integer(hwloc_get_nbobjs_by_type(t, type)));
	json_object_set_new(c, "size_bytes",
			    o && o->attr ? json_integer((json_int_t)o->attr->cache.size)
					 : json_null());
	return c;
}

json_t *mmr_topology_json(void)
{
	hwloc_topology_t t = load_topology();
	json_t *o = json_object();

	if (!t) {
		json_object_set_new(o, "error", json_string("hwloc could not load the topology"));
		return o;
	}
	json_object_set_new(o, "packages",
			    json_integer(hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PACKAGE)));
	json_object_set_new(o, "cores", json_integer(hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_CORE)));
	json_object_set_new(o, "pus", json_integer(hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU)));
	json_object_set_new(o, "numa_nodes",
			    json_integer(hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE)));
	json_object_set_new(o, "l2", caches(t, HWLOC_OBJ_L2CACHE));
	json_object_set_new(o, "l3", caches(t, HWLOC_OBJ_L3CACHE));
	hwloc_topology_destroy(t);
	return o;
}
