#!/usr/bin/env python3
"""`cmake --install` puts the binary, configs, report schema and man page in
place, and the installed binary finds its configs from anywhere."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmrtest as t  # noqa: E402

with t.tmpdir() as prefix:
    p = subprocess.run(["cmake", "--install", t.BUILD, "--prefix", prefix],
                       capture_output=True, text=True)
    t.check(p.returncode == 0, f"cmake --install: {p.stderr}")
    binary = os.path.join(prefix, "bin", "mmrepro")
    share = os.path.join(prefix, "share", "mmrepro")
    driver = os.path.join(prefix, "libexec", "mmrepro", "mmrepro-alloc-churn")
    for path in (binary, driver, os.path.join(share, "configs", "fork-anon.json"),
                 os.path.join(share, "configs", "suites", "quick.json"),
                 os.path.join(share, "reports", "report.schema.json"),
                 os.path.join(share, "reports", "compare.schema.json"),
                 os.path.join(share, "scripts", "vm-init"),
                 os.path.join(share, "scripts", "mmrepro-debian-kernel"),
                 os.path.join(prefix, "share", "man", "man1", "mmrepro.1")):
        t.check(os.path.exists(path), f"not installed: {path}")
    with open(os.path.join(prefix, "share", "man", "man1", "mmrepro.1")) as f:
        man = f.read()
    t.check(man.startswith(".TH MMREPRO 1") and "EXIT STATUS" in man, "man page header/sections")
    # the build tree's source dir is compiled in; point the installed binary
    # at the installed data only, and run from an unrelated directory
    env = dict(os.environ, MMREPRO_DATADIR=share)
    r = subprocess.run([binary, "run", "quick", "--dry-run"], cwd="/", env=env,
                       capture_output=True, text=True)
    t.check(r.returncode == 0 and "fork_anon" in r.stdout, f"installed run quick: {r.stderr}")
    # compare/report check reports against the installed schema
    fixture = os.path.join(t.SOURCE, "tests", "integration", "data", "compare-base.json")
    r = subprocess.run([binary, "report", fixture], cwd="/", env=env, capture_output=True, text=True)
    t.check(r.returncode == 0 and "fork_ns" in r.stdout, f"installed report: {r.stderr}")
    # the installed mmrepro finds its installed driver (relative to itself)
    r = subprocess.run([binary, "run", "mthp_alloc", "--set", "allocator=glibc", "--dry-run"],
                       cwd="/", env=env, capture_output=True, text=True)
    t.check(r.returncode == 0 and "mmrepro-alloc-churn" not in r.stdout,
            f"installed mthp_alloc does not find its driver: {r.stdout} {r.stderr}")
    r = subprocess.run([driver, "--help"], capture_output=True, text=True)
    t.check(r.returncode == 0 and "LD_PRELOAD" in r.stdout, f"driver --help: {r.stderr}")
    man_bin = subprocess.run(["sh", "-c", "command -v man"], capture_output=True, text=True).stdout.strip()
    if man_bin:
        r = subprocess.run([man_bin, "-l", os.path.join(prefix, "share", "man", "man1", "mmrepro.1")],
                           capture_output=True, text=True, env=dict(os.environ, MANPAGER="cat"))
        t.check(r.returncode == 0 and "mmrepro" in r.stdout, f"man -l: {r.stderr}")
t.done("test_install")
