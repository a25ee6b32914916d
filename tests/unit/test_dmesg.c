// SPDX-License-Identifier: GPL-2.0
/* Which kernel log lines a reviewer must see. */
#include "check.h"
#include "mmrepro/dmesg.h"

int main(void)
{
	CHECK(mmr_dmesg_is_finding(
		"BUG: kernel NULL pointer dereference, address: 0000000000000000"));
	CHECK(mmr_dmesg_is_finding(
		"WARNING: CPU: 1 PID: 123 at mm/memory.c:1234 zap_pte_range+0x1/0x2"));
	CHECK(mmr_dmesg_is_finding("Oops: 0002 [#1] PREEMPT SMP NOPTI"));
	CHECK(mmr_dmesg_is_finding("WARNING: possible circular locking dependency detected"));
	CHECK(mmr_dmesg_is_finding(
		"a.out invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE)"));
	CHECK(mmr_dmesg_is_finding("watchdog: BUG: soft lockup - CPU#0 stuck for 22s!"));
	CHECK(mmr_dmesg_is_finding("INFO: task kworker:1 blocked for more than 120 seconds."));
	CHECK(mmr_dmesg_is_finding(
		"BUG: Bad rss-counter state mm:00000000 type:MM_ANONPAGES val:1"));
	CHECK(!mmr_dmesg_is_finding("mmrepro: 123-45 case 0"));
	CHECK(!mmr_dmesg_is_finding("EXT4-fs (vda): mounted filesystem"));
	CHECK(!mmr_dmesg_is_finding("usb 1-1: new high-speed USB device"));
	return check_done("test_dmesg");
}
