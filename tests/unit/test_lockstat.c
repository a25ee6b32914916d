// SPDX-License-Identifier: GPL-2.0
/* /proc/lock_stat parsing and differences, on text in the kernel's format
 * (kernel/locking/lockdep_proc.c, version 0.4), and the "absent" and
 * "disabled" answers on a fake /proc. */
#include "check.h"
#include "fakesys.h"
#include "mmrepro/lockstat.h"

/* The layout the kernel prints: "%40s:" or "%38s-W:"/"-R:", 12 numbers, then
 * contention points ("name count [<ip>] symbol") and separators. */
static const char before[] =
	"lock_stat version 0.4\n"
	"-----------------------------------------------------------------------\n"
	"                              class name    con-bounces    contentions   "
	"waittime-min   waittime-max waittime-total   waittime-avg    acq-bounces   "
	"acquisitions   holdtime-min   holdtime-max holdtime-total   holdtime-avg\n"
	"-----------------------------------------------------------------------\n"
	"\n"
	"                        &mm->mmap_lock-W:            10             20"
	"           0.20         100.00         500.50          25.02            30"
	"           1000           0.10          50.00        2000.00           2.00\n"
	"                        &mm->mmap_lock-R:             5              8"
	"           0.30          10.00          40.00           5.00            12"
	"           9000           0.05          20.00        3000.00           0.33\n"
	"                        --------------\n"
	"                          &mm->mmap_lock             11          [<ffffffff811502a7>] "
	"lock_mm_and_find_vma+0x57/0x280\n"
	"\n"
	"..................................................................\n"
	"\n"
	"  &sb->s_type->i_mutex_key#14:            1              2"
	"           1.00           2.00           3.00           1.50             3"
	"             50           0.50           1.00          25.00           0.50\n"
	"                 &(&zone->lock)->rlock:             0              0"
	"           0.00           0.00           0.00           0.00             1"
	"            100           0.01           0.10           1.00           0.01\n";

static const char after[] =
	"lock_stat version 0.4\n"
	"                        &mm->mmap_lock-W:            15             70"
	"           0.20         100.00        1500.50          21.44            40"
	"           1500           0.10          50.00        2500.00           1.66\n"
	"                        &mm->mmap_lock-R:             5             10"
	"           0.30          10.00          60.00           6.00            12"
	"           9900           0.05          20.00        3300.00           0.33\n"
	"  &sb->s_type->i_mutex_key#14:            1              5"
	"           1.00           2.00           9.00           1.80             3"
	"             80           0.50           1.00          40.00           0.50\n"
	"                 &(&zone->lock)->rlock:             0              0"
	"           0.00           0.00           0.00           0.00             1"
	"            200           0.01           0.10           2.00           0.01\n"
	"                        new_class_lock:             0              4"
	"           0.00           1.00           4.00           1.00             1"
	"              4           0.01           0.10           2.00           0.01\n";

int main(void)
{
	struct mmr_lockstat a, b;
	uint64_t cont;
	double wait;
	char why[256];
	json_t *top, *row;

	CHECK(mmr_lockstat_parse(before, &a) == 0);
	CHECK(a.n == 4);
	CHECK_STR(a.rows[0].name, "&mm->mmap_lock-W");
	CHECK(a.rows[0].contentions == 20 && a.rows[0].acquisitions == 1000);
	CHECK_NEAR(a.rows[0].wait_us, 500.5, 1e-9);
	CHECK_NEAR(a.rows[0].hold_us, 2000, 1e-9);
	CHECK_STR(a.rows[2].name, "&sb->s_type->i_mutex_key#14");
	CHECK(mmr_lockstat_parse(after, &b) == 0 && b.n == 5);

	mmr_lockstat_delta_sum(&a, &b, "mmap_lock", &cont, &wait);
	CHECK(cont == 50 + 2);
	CHECK_NEAR(wait, 1000 + 20, 1e-9);

	top = mmr_lockstat_delta_json(&a, &b, 2);
	CHECK(json_object_size(top) == 2);
	row = json_object_get(top, "&mm->mmap_lock-W");
	CHECK(json_integer_value(json_object_get(row, "contentions")) == 50);
	CHECK(json_integer_value(json_object_get(row, "acquisitions")) == 500);
	/* a class first seen in the second snapshot counts from zero */
	CHECK(json_object_get(top, "new_class_lock") != NULL);
	json_decref(top);
	/* classes without new contention are left out */
	top = mmr_lockstat_delta_json(&a, &b, 10);
	CHECK(json_object_size(top) == 4 && !json_object_get(top, "&(&zone->lock)->rlock"));
	json_decref(top);
	mmr_lockstat_free(&a);
	mmr_lockstat_free(&b);

	CHECK(mmr_lockstat_parse("lockdep is not lock_stat\n", &a) == -EINVAL);

	/* this kernel's answer, on a fake /proc */
	fake_tree();
	CHECK(mmr_lockstat_read(&a, why, sizeof(why)) == -ENOENT);
	CHECK(strstr(why, "absent") && strstr(why, "CONFIG_LOCK_STAT"));
	fake_file("/proc/lock_stat", before);
	fake_file("/proc/sys/kernel/lock_stat", "0");
	CHECK(mmr_lockstat_read(&a, why, sizeof(why)) == -ENODATA);
	CHECK(strstr(why, "kernel.lock_stat=0") != NULL);
	fake_file("/proc/sys/kernel/lock_stat", "1");
	CHECK(mmr_lockstat_read(&a, why, sizeof(why)) == 0 && a.n == 4);
	mmr_lockstat_free(&a);
	fake_cleanup();
	return check_done("test_lockstat");
}
