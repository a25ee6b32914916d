#!/usr/bin/env python3
"""Bad input through the command line: one line on stderr that names the
file, the key and what was expected, exit 2, and nothing on the system
changed (knobs, journal). A config that does not fit the memory guard is
refused with exit 3, also before anything changes."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmrtest as t  # noqa: E402

BAD = [
    ({"workload": "fork_anon", "params": {"sise": "1G"}},
     'cases[0].params.sise: unknown key (did you mean "size"?)'),
    ({"workload": "fork_anon", "params": {"size": "lots"}},
     'cases[0].params.size: expected a size like 512M or 1G in 2M..1T, got "lots"'),
    ({"workload": "fork_anon", "settings": {"thp.enabled": "sometimes"}},
     "cases[0].settings.thp.enabled: expected one of always|madvise|never"),
    ({"workload": "fork_anon", "settings": {"vm.swappiness": "10"}},
     'cases[0].settings.vm.swappiness: unknown knob "vm.swappiness"'),
    # the second case is bad: the first must not have run or changed anything
    ({"cases": [{"workload": "fork_anon", "settings": {"thp.enabled": "never"}},
                {"workload": "fork_anon", "params": {"cow": "sometimes"}}]},
     'cases[1].params.cow: expected one of none|seq|random, got "sometimes"'),
]

with t.machine_lock(), t.tmpdir() as d:
    before = t.knobs()
    for doc, msg in BAD:
        cfg = t.write_config(doc, d)
        r = t.run(["run", cfg, "-o", os.path.join(d, "never.json")], check_rc=2)
        line = r.stderr.strip()
        t.check(line.count("\n") == 0 and cfg in line and msg in line,
                f"expected one line naming {cfg} and {msg!r}, got {r.stderr!r}")
        t.check(not os.path.exists(os.path.join(d, "never.json")), "no report for a bad config")
    r = t.run(["run", "fork_anon", "--set", "cow_fraction=2"], check_rc=2)
    t.check(r.stderr.strip() == "mmrepro: error: --set cow_fraction: expected a number in 0..1, got \"2\"",
            r.stderr)
    r = t.run(["run", "fork_anon", "--set", "nonsense"], check_rc=2)
    t.check("expected key=value" in r.stderr, r.stderr)
    r = t.run(["run", "fork_anon", "--scale", "huge"], check_rc=2)
    t.check("ci|default|full" in r.stderr, r.stderr)
    with open(os.path.join(d, "trunc.json"), "w") as f:
        f.write('{"workload": "fork_anon", "params": {')
    r = t.run(["run", os.path.join(d, "trunc.json")], check_rc=2)
    t.check("invalid JSON" in r.stderr and "trunc.json:1:" in r.stderr, r.stderr)
    t.check_knobs_equal(before, "after bad configs")

    if os.geteuid() == 0:
        # far beyond MemAvailable: refused up front, with the numbers
        r = t.run(["run", "fork_anon", "--set", "size=1T", "--set", "settings.thp.enabled=never",
                   "-o", os.path.join(d, "never.json")], check_rc=3)
        t.check("needs about" in r.stderr and "MemAvailable" in r.stderr and
                "nothing was changed" in r.stderr, r.stderr)
        t.check(not os.path.exists(os.path.join(d, "never.json")), "no report when refused")
        t.check_knobs_equal(before, "after the memory guard refused")
t.done("test_config_errors")
