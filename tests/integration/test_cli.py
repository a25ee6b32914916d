#!/usr/bin/env python3
"""The command line: --help everywhere, --version, list, env, dry runs, and
the run forms the README shows."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmrtest as t  # noqa: E402

r = t.run(["--version"], check_rc=0)
t.check(re.match(r"^mmrepro \d+\.\d+\.\d+ \(.+\)$", r.stdout.strip()), f"--version: {r.stdout}")
r = t.run(["--help"], check_rc=0)
for word in ("run", "list", "env", "restore", "Exit codes", "128+N"):
    t.check(word in r.stdout, f"--help lacks {word}")
for cmd in ("run", "list", "env", "restore"):
    r = t.run([cmd, "--help"], check_rc=0)
    t.check(r.stdout.startswith(f"usage: mmrepro {cmd}") and "Exit codes" in r.stdout,
            f"{cmd} --help: {r.stdout[:200]}")
r = t.run(["rn"], check_rc=2)
t.check('did you mean "run"' in r.stderr and r.stderr.count("\n") == 1, f"typo: {r.stderr}")
r = t.run([], check_rc=2)
r = t.run(["run"], check_rc=2)
t.check("which config" in r.stderr, r.stderr)

r = t.run(["list"], check_rc=0)
for word in ("fork_anon", "size", "backing", "thp-pte", "cow_fraction", "fork_ns", "ns",
             "default 1G", "follows --scale"):
    t.check(word in r.stdout, f"list lacks {word!r}")
t.check("selftest" not in r.stdout, "self-test workloads are hidden without --all")
t.check("selftest" in t.run(["list", "--all"], check_rc=0).stdout, "list --all shows selftest")
ws = json.loads(t.run(["list", "--json"], check_rc=0).stdout)
fa = next(w for w in ws if w["name"] == "fork_anon")
size = next(p for p in fa["params"] if p["name"] == "size")
t.check(size["type"] == "size" and size["default"] == "1G" and size["min"] == "2M", f"size: {size}")
t.check(any(m["name"] == "fork_ns" and m["direction"] == "lower" for m in fa["metrics"]), fa["metrics"])
t.run(["list", "no_such_workload"], check_rc=2)

env = json.loads(t.run(["env"], check_rc=0).stdout)
t.check(env["kernel"]["release"] == os.uname().release, env["kernel"])
for k in ("kconfig", "cpu", "topology", "numa", "memory", "virtualization", "knobs", "probes"):
    t.check(k in env, f"env lacks {k}")
t.check(env["knobs"].get("thp.enabled") == t.knob("/sys/kernel/mm/transparent_hugepage/enabled"),
        "env reports the THP knob as it is")

# the README's forms, planned without running (--dry-run changes nothing)
cfg = os.path.join(t.SOURCE, "configs", "fork-anon.json")
before = t.knobs()
r = t.run(["run", cfg, "--set", "size=512M", "-o", "/nonexistent/out.json", "--dry-run"], check_rc=0)
t.check("fork_anon size=512M backing=thp-pte" in r.stdout, r.stdout[:500])
r = t.run(["run", "fork_anon", "--set", "backing=thp-pte", "--dry-run"], check_rc=0)
t.check(r.stdout.startswith("[1/1] fork_anon backing=thp-pte"), r.stdout)
r = t.run(["run", "quick", "--dry-run"], check_rc=0)
t.check("size=256M" in r.stdout, "the quick suite resolves by name")
r = t.run(["run", "fork_anon", "--scale", "ci", "--dry-run"], check_rc=0)
t.check("footprint 1" in r.stdout or "MiB" in r.stdout, r.stdout)
t.check_knobs_equal(before, "after dry runs")

if os.geteuid() == 0:
    with t.machine_lock(), t.tmpdir() as d:
        out = os.path.join(d, "out.json")
        r = t.run(["run", cfg, "--set", "size=8M", "--set", "backing=thp-pte", "--set",
                   "repetitions=2", "-o", out], check_rc=0)
        t.check("fork_ns" in r.stdout and "report: " + out in r.stderr, "table and report path")
        rep = t.validate(out)
        t.check(rep["config"]["overrides"] == {"size": "8M", "backing": "thp-pte",
                                               "repetitions": "2"}, rep["config"]["overrides"])
        r = t.run(["run", "fork_anon", "--set", "size=4M", "--set", "repetitions=1", "--json", "-q",
                   "-o", out], check_rc=0)
        t.validate(json.loads(r.stdout))
t.done("test_cli")
