#!/usr/bin/env python3
"""sga_attach under faults: SIGKILL of mmrepro while its fleet holds the SGA.

For a SysV hugetlb SGA (a segment that outlives every process, holding pool
pages that a changed knob provided) and a hugetlbfs memfd SGA: SIGKILL
mmrepro once every process of the fleet has attached. The fleet dies with it
(PR_SET_PDEATHSIG); the segment stays, recorded, until `mmrepro restore` (or
the next start) removes it, and only then can the pool size go back. After
that nothing differs from before: processes, segments, hugetlb pools,
/dev/shm, records, knobs. Then the same for a case child that crashes while
its fleet holds the segment: mmrepro removes it right after the case.
"""
# ctest-labels: sga
# ctest-timeout: 900
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmrtest as t  # noqa: E402

t.require_root()
PROCS = 16


def attached_segment(before):
    """A segment that was not there before, with every process attached."""
    new = [s for s in t.shm_segments() if s not in before]
    return next((s for s in new if s[3] >= PROCS), None)


def kill_mid_fleet(d, backing, how, before, knobs, size="256M"):
    out = os.path.join(d, f"{backing}-{how}.json")
    p = t.start(["run", "sga_attach", "--set", f"backing={backing}", "--set", f"procs={PROCS}",
                 "--set", f"sga_size={size}", "--set", "hold=120", "--set", "repetitions=1",
                 "--set", "warmup=0", "-o", out, "-q"], start_new_session=True)
    old_segments = set(t.shm_segments())
    if backing.startswith("sysv"):
        t.wait_for(lambda: attached_segment(old_segments), 120, f"{backing}: the fleet to attach")
    else:  # no segment to watch: the fleet's processes are the sign
        t.wait_for(lambda: len(t.session_processes(p.pid)) >= PROCS + 3, 120,
                   f"{backing}: the fleet to start")
        time.sleep(2)
    seg = attached_segment(old_segments)
    p.kill()
    p.wait()
    t.check(len(t.leftovers()["records"]) == (1 if seg else 0),
            f"{backing}: the segment must stay recorded after SIGKILL: {t.leftovers()['records']}")
    # the fleet dies with its parents; the segment and the pool wait for recovery
    t.wait_for(lambda: not t.session_processes(p.pid), 10, f"{backing}: the fleet to die")
    if seg:
        t.check(seg[0] in {s[0] for s in t.shm_segments()},
                f"{backing}: only recovery may remove the segment")
    if how == "restore":
        r = t.run(["restore"], check_rc=0)
        t.check("restored" in r.stdout, f"restore said: {r.stdout} {r.stderr}")
    else:
        r = t.run(["run", "selftest", "--set", "repetitions=1", "-q",
                   "-o", os.path.join(d, "next.json")], check_rc=0)
    if seg:
        t.check("removed SysV segment" in r.stderr, f"{backing}: recovery must say what it removed: {r.stderr}")
    t.check_knobs_equal(knobs, f"{backing}: after SIGKILL and {how}")
    t.check_no_leftovers(before, f"{backing}: after SIGKILL and {how}", sid=p.pid)


with t.machine_lock(), t.tmpdir() as d:
    knobs, before = t.knobs(), t.leftovers()
    kill_mid_fleet(d, "sysv-hugetlb", "restore", before, knobs)
    kill_mid_fleet(d, "sysv", "next start", before, knobs)
    # an aligned window shares PMD tables only from 1 GiB up (smaller is refused)
    kill_mid_fleet(d, "hugetlbfs-aligned", "restore", before, knobs, size="1G")

    # the case child crashes while its fleet holds the segment: SIGKILL it
    out = os.path.join(d, "crash.json")
    p = t.start(["run", "sga_attach", "--set", "backing=sysv", "--set", f"procs={PROCS}",
                 "--set", "sga_size=64M", "--set", "hold=120", "--set", "repetitions=1",
                 "--set", "warmup=0", "-o", out, "-q"], start_new_session=True)
    old_segments = set(t.shm_segments())
    t.wait_for(lambda: attached_segment(old_segments), 120, "the fleet to attach")
    case = [c for c in t.children_of(p.pid)]
    t.check(len(case) == 1, f"one case child of mmrepro, found {case}")
    for pid in case:
        os.kill(pid, signal.SIGKILL)
    _, err = p.communicate(timeout=120)
    t.check(p.returncode == 1, f"a killed case fails the run: exit {p.returncode}: {err}")
    c = t.validate(out)["cases"][0]
    t.check(c["status"] == "failed" and "SIGKILL" in (c["reason"] or ""), f"{c['status']}: {c['reason']}")
    t.check(any("removed SysV segment" in line for line in c["log"]),
            f"the case's log must say what mmrepro removed after it: {c['log']}")
    t.check_knobs_equal(knobs, "after a killed case child")
    t.check_no_leftovers(before, "after a killed case child", sid=p.pid)
t.done("test_sga_faults")
