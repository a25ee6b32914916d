"""Shared helpers for mmrepro's integration tests.

Each test is a script run by CTest: exit 0 pass, 1 fail, 77 skip (with the
reason printed). Tests run the real binary against the real kernel at tiny
sizes, validate every report they produce against reports/report.schema.json
and check that every kernel knob is back to its value from before the test.
"""
import contextlib
import fcntl
import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("MMREPRO_BIN", "mmrepro")
SOURCE = os.environ.get("MMREPRO_SOURCE", os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
BUILD = os.environ.get("MMREPRO_BUILD", os.path.join(SOURCE, "build"))
SCHEMA = os.path.join(SOURCE, "reports", "report.schema.json")

_failures = []


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(77)


def check(cond, what):
    """Record a failed expectation and go on (the test fails at the end)."""
    if not cond:
        _failures.append(what)
        print(f"FAIL: {what}", file=sys.stderr)
    return cond


def done(name):
    if _failures:
        print(f"{name}: {len(_failures)} check(s) failed", file=sys.stderr)
        sys.exit(1)
    print(f"{name}: ok")
    sys.exit(0)


def require_root():
    if os.geteuid() != 0:
        skip("needs root (kernel knobs, /proc/kpageflags)")


@contextlib.contextmanager
def machine_lock():
    """Serialise tests that watch global knobs, across CTest processes and
    across build trees (an ASan and a release ctest may run side by side)."""
    os.makedirs("/run/lock", exist_ok=True)
    with open("/run/lock/mmrepro-tests.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def knob_files():
    pats = [
        "/sys/kernel/mm/transparent_hugepage/enabled",
        "/sys/kernel/mm/transparent_hugepage/defrag",
        "/sys/kernel/mm/transparent_hugepage/shmem_enabled",
        "/sys/kernel/mm/transparent_hugepage/use_zero_page",
        "/sys/kernel/mm/transparent_hugepage/hugepages-*/enabled",
        "/sys/kernel/mm/transparent_hugepage/hugepages-*/shmem_enabled",
        "/sys/kernel/mm/transparent_hugepage/khugepaged/*",
        "/sys/kernel/mm/hugepages/hugepages-*/nr_hugepages",
        "/sys/kernel/mm/hugepages/hugepages-*/nr_overcommit_hugepages",
        "/proc/sys/vm/overcommit_memory",
        "/proc/sys/vm/overcommit_ratio",
        "/proc/sys/vm/max_map_count",
        "/proc/sys/kernel/shmmax",
        "/proc/sys/kernel/shmall",
        "/proc/sys/kernel/shmmni",
    ]
    skip_names = ("full_scans", "pages_collapsed")  # counters, not knobs
    for p in pats:
        for f in sorted(glob.glob(p)):
            if not f.endswith(skip_names):
                yield f


@contextlib.contextmanager
def run_lock(timeout=1800):
    """mmrepro's own run lock: while a test holds it, no mmrepro (another
    developer's hand-run one included, which takes no machine_lock) is between
    changing knobs and restoring them."""
    d = os.environ.get("MMREPRO_STATE_DIR", "/run/mmrepro")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "lock"), "a") as f:
        end = time.time() + timeout
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.time() > end:
                    raise
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _read_knobs():
    out = {}
    for f in knob_files():
        try:
            with open(f) as fh:
                out[f] = fh.read().strip()
        except OSError:
            pass
    return out


def knobs():
    """Every knob mmrepro may touch, read directly (not through mmrepro), at a
    moment no mmrepro run has them changed. Never call it while a mmrepro the
    test started is still running: it would wait for that run to end."""
    with run_lock():
        return _read_knobs()


def knob(path):
    with open(path) as f:
        v = f.read().strip()
    if "[" in v:
        return v[v.index("[") + 1:v.index("]")]
    return v


def check_knobs_equal(before, what):
    with run_lock():
        after = _read_knobs()
        journal = os.path.exists(journal_path())
    diff = {k: (before.get(k), after.get(k)) for k in set(before) | set(after)
            if before.get(k) != after.get(k)}
    check(not diff, f"{what}: knobs changed: {diff}")
    check(not journal, f"{what}: the settings journal was left behind")


def journal_path():
    return os.path.join(os.environ.get("MMREPRO_STATE_DIR", "/run/mmrepro"), "journal.json")


def run(args, timeout=600, check_rc=None, **kw):
    """Run mmrepro; returns CompletedProcess with text output."""
    p = subprocess.run([BIN] + list(args), capture_output=True, text=True, timeout=timeout, **kw)
    if check_rc is not None and p.returncode != check_rc:
        print(f"$ mmrepro {' '.join(args)}\nexit {p.returncode}\n--- stdout\n{p.stdout}\n"
              f"--- stderr\n{p.stderr}", file=sys.stderr)
        check(False, f"mmrepro {' '.join(args)}: exit {p.returncode}, expected {check_rc}")
    return p


def start(args, **kw):
    return subprocess.Popen([BIN] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kw)


_validator = None


def validate(path_or_doc):
    """Validate a report against the schema; returns the document."""
    global _validator
    import jsonschema
    if _validator is None:
        with open(SCHEMA) as f:
            schema = json.load(f)
        jsonschema.Draft202012Validator.check_schema(schema)
        _validator = jsonschema.Draft202012Validator(schema)
    if isinstance(path_or_doc, str):
        with open(path_or_doc) as f:
            doc = json.load(f)
    else:
        doc = path_or_doc
    errors = sorted(_validator.iter_errors(doc), key=lambda e: list(e.path))
    for e in errors[:10]:
        check(False, f"schema: {'/'.join(str(p) for p in e.path)}: {e.message[:300]}")
    if not errors:
        print("report valid against the schema")
    return doc


def write_config(doc, directory):
    path = os.path.join(directory, "config.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


def tmpdir():
    return tempfile.TemporaryDirectory(prefix="mmrepro-test-")


def wait_for(pred, timeout, what):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    check(False, f"timed out waiting for {what}")
    return False


def processes_in_group(pgid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            fields = _stat_fields(d)
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            out.append(int(d))
    return out


def _stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    return stat[stat.rindex(")") + 2:].split()  # state, ppid, pgrp, ...


def children_of(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if int(_stat_fields(d)[1]) == pid:
                    out.append(int(d))
            except (OSError, IndexError):
                pass
    return out


def mthp_sizes_kb():
    out = []
    for d in glob.glob("/sys/kernel/mm/transparent_hugepage/hugepages-*kB"):
        out.append(int(os.path.basename(d)[len("hugepages-"):-2]))
    return sorted(out)


def kill(proc, sig=signal.SIGINT):
    os.kill(proc.pid, sig)


# ---- what a run may leave behind (SysV segments, hugetlb pages, files, processes) ----

def shm_segments():
    """SysV segments as (key, shmid, bytes, nattch), from /proc/sysvipc/shm."""
    out = set()
    with open("/proc/sysvipc/shm") as f:
        next(f)
        for line in f:
            v = line.split()
            out.add((int(v[0]), int(v[1]), int(v[3]), int(v[6])))
    return out


def hugetlb_pools():
    out = {}
    for d in sorted(glob.glob("/sys/kernel/mm/hugepages/hugepages-*")):
        for name in ("nr_hugepages", "free_hugepages", "resv_hugepages", "surplus_hugepages"):
            with open(os.path.join(d, name)) as f:
                out[f"{os.path.basename(d)}/{name}"] = int(f.read())
    return out


def leftovers():
    """A snapshot of what a run must give back: SysV segments, hugetlb pools,
    /dev/shm, and the records of objects mmrepro still has to remove."""
    state = os.environ.get("MMREPRO_STATE_DIR", "/run/mmrepro")
    return {"segments": sorted(shm_segments()), "hugetlb": hugetlb_pools(),
            "dev_shm": sorted(os.listdir("/dev/shm")),
            "records": sorted(glob.glob(os.path.join(state, "resources-*.json")))}


def session_processes(sid):
    """Live (not zombie) processes of a session: run mmrepro with
    start_new_session=True and every process it made is in session <its pid>."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                f = _stat_fields(d)
            except OSError:
                continue
            if int(f[3]) == sid and f[0] not in "ZX":
                out.append(int(d))
    return out


def check_no_leftovers(before, what, sid=None):
    """Fail on any difference from `before` (a leftovers() snapshot), and on
    any live process of session `sid` (waited for up to 10 s: PR_SET_PDEATHSIG
    kills are asynchronous)."""
    if sid is not None:
        wait_for(lambda: not session_processes(sid), 10, f"{what}: processes of session {sid} to exit")
    after = leftovers()
    for k in before:
        check(before[k] == after[k], f"{what}: {k} differ: before {before[k]}, after {after[k]}")
