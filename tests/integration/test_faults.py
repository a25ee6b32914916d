#!/usr/bin/env python3
"""The settings transaction under faults.

While mmrepro has changed THP knobs: SIGINT, SIGTERM and SIGHUP to mmrepro, a
crashing case child, a hanging case child (deadline), and SIGKILL of mmrepro
(then `mmrepro restore`, the next start, and a start whose config is
refused). After each, every knob equals its value from before the run, no
process of the case is left, and where a report is written it validates and
says what happened.
"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmrtest as t  # noqa: E402

t.require_root()
THP = "/sys/kernel/mm/transparent_hugepage"


def other(path, choices):
    cur = t.knob(path)
    return next(c for c in choices if c != cur)


def settings():
    """Knob changes a case will make, all different from the current values."""
    s = {"thp.enabled": other(f"{THP}/enabled", ["never", "madvise"]),
         "thp.khugepaged.scan_sleep_millisecs":
             str(int(t.knob(f"{THP}/khugepaged/scan_sleep_millisecs")) + 1)}
    if os.path.exists(f"{THP}/hugepages-64kB/enabled"):
        s["thp.64K.enabled"] = other(f"{THP}/hugepages-64kB/enabled", ["always", "madvise", "never"])
    return s


def changed(s):
    return t.knob(f"{THP}/enabled") == s["thp.enabled"]


def config(d, action, where="run", seconds=60, extra_cases=(), timeout="10m"):
    cases = [{"workload": "selftest", "params": {"action": action, "where": where,
                                                 "seconds": seconds},
              "settings": settings(), "repetitions": 2, "timeout": timeout}]
    cases += list(extra_cases)
    return t.write_config({"cases": cases}, d)


def stop_with(sig, d, before):
    out = os.path.join(d, f"sig{sig}.json")
    s = settings()
    p = t.start(["run", config(d, "sleep"), "-o", out, "-q"])
    t.wait_for(lambda: changed(s), 30, f"the knobs to change before SIG{signal.Signals(sig).name}")
    time.sleep(0.2)
    p.send_signal(sig)
    _, err = p.communicate(timeout=60)
    t.check(p.returncode == 128 + sig, f"SIG{sig}: exit {p.returncode}, expected {128 + sig}: {err}")
    t.check_knobs_equal(before, f"after SIG{signal.Signals(sig).name}")
    rep = t.validate(out)
    t.check(rep["status"] == "interrupted" and rep["cases"][0]["status"] == "interrupted",
            f"SIG{sig}: report status {rep['status']} / {rep['cases'][0]['status']}")
    t.check(rep["settings"]["restored"] is True, "the report must say the knobs were restored")


with t.machine_lock(), t.tmpdir() as d:
    before = t.knobs()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        stop_with(sig, d, before)

    # a crashing case child: reported, the next case still runs, knobs restored
    out = os.path.join(d, "crash.json")
    ok_case = {"workload": "selftest", "params": {"action": "ok"}, "repetitions": 2}
    t.run(["run", config(d, "crash", extra_cases=[ok_case]), "-o", out, "-q"], check_rc=1)
    rep = t.validate(out)
    c0, c1 = rep["cases"]
    t.check(c0["status"] == "failed" and "SIGSEGV" in (c0["reason"] or "") and c0.get("phase") == "run",
            f"crash: {c0['status']} {c0['reason']}")
    t.check(c1["status"] == "ok", f"the case after a crash must run: {c1['status']} {c1['reason']}")
    t.check_knobs_equal(before, "after a crashing case child")

    # a hanging case child: killed at its deadline with kernel stacks recorded
    out = os.path.join(d, "hang.json")
    t.run(["run", config(d, "hang", where="prepare", timeout="2s"), "-o", out, "-q"], check_rc=1)
    rep = t.validate(out)
    c0 = rep["cases"][0]
    t.check(c0["status"] == "failed" and "timeout" in (c0["reason"] or ""), f"hang: {c0['reason']}")
    hang = c0.get("hang", {})
    t.check(any("stack" in task for proc in hang.values() for task in proc.values()),
            f"hang: no kernel stacks recorded: {hang}")
    t.check_knobs_equal(before, "after a hanging case child")

    # SIGKILL: the journal stays; `mmrepro restore` puts everything back
    for how in ("restore", "next start", "a start with a bad config"):
        s = settings()
        p = t.start(["run", config(d, "sleep"), "-o", os.path.join(d, "kill.json"), "-q"])
        t.wait_for(lambda: changed(s), 30, "the knobs to change before SIGKILL")
        time.sleep(0.3)
        case_pgids = t.children_of(p.pid)  # each case child leads its own group
        t.check(len(case_pgids) == 1, f"expected one case child of mmrepro, found {case_pgids}")
        p.kill()
        p.wait()
        t.check(os.path.exists(t.journal_path()), "SIGKILL: the journal must survive")
        t.check(changed(s), "SIGKILL: the knobs are still changed until someone restores")
        # the case child dies with its parent (PR_SET_PDEATHSIG)
        t.wait_for(lambda: not any(t.processes_in_group(g) for g in case_pgids), 10,
                   "the case processes to die with mmrepro")
        if how == "restore":
            r = t.run(["restore"], check_rc=0)
            t.check("restored" in r.stdout, f"restore said: {r.stdout} {r.stderr}")
        elif how == "next start":
            r = t.run(["run", "selftest", "--set", "repetitions=1", "-q",
                       "-o", os.path.join(d, "next.json")], check_rc=0)
            t.check("restored" in r.stderr, f"the next start must say it restored: {r.stderr}")
        else:
            # restoring comes before reading the config, so even a config
            # that is refused does not leave the knobs changed
            r = t.run(["run", "selftest", "--set", "repetitions=0"], check_rc=2)
            t.check("restored" in r.stderr and "--set repetitions" in r.stderr,
                    f"a refused config must still restore first: {r.stderr}")
        t.check_knobs_equal(before, f"after SIGKILL and {how}")
    r = t.run(["restore"], check_rc=0)
    t.check("nothing to restore" in r.stdout, f"a second restore finds nothing: {r.stdout}")

    # the dmesg scanner finds a WARNING logged during a case, and names the case
    out = os.path.join(d, "kmsg.json")
    t.run(["run", t.write_config({"workload": "selftest", "params": {"action": "kmsg"},
                                  "repetitions": 1, "warmup": 0}, d), "-o", out, "-q"], check_rc=0)
    f = t.validate(out)["dmesg"]["findings"]
    t.check(any("mmrepro selftest: WARNING" in x["line"] and x["case"] == 0 for x in f),
            f"dmesg findings: {f}")
t.done("test_faults")
