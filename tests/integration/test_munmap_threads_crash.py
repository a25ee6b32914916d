#!/usr/bin/env python3
"""A walker thread that crashes is a result, not a hang.

While a walk case runs, its first walker thread (not the process) gets
SIGSEGV. The case must be reported failed with the signal well before its
timeout, the next case must still run, nothing of the case may be left
running, and every knob must be back. The same with the O_DIRECT walker,
whose file mmrepro removes right after the crashed case; and with mmrepro
itself killed by SIGKILL during an O_DIRECT walk, after which the file
stays, recorded, until `mmrepro restore` removes it.
"""
import ctypes
import glob
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmrtest as t  # noqa: E402

t.require_root()
libc = ctypes.CDLL(None, use_errno=True)


def thread_named(pid, name):
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                if f.read().strip() == name:
                    return int(tid)
    except OSError:
        pass
    return None


def walker_of(p, found):
    """The pid and tid of walk-0 in a case child of mmrepro p, into found."""
    for pid in t.children_of(p.pid):
        tid = thread_named(pid, "walk-0")
        if tid:
            found.update(pid=pid, tid=tid)
            return True
    return False


def odirect_files(d):
    return glob.glob(os.path.join(d, "mmrepro-munmap_threads-*"))


def odirect_dir(x):
    """x if its filesystem reads with O_DIRECT and is not tmpfs (whose
    O_DIRECT copies through its page cache), else None."""
    import mmap
    import subprocess
    kind = subprocess.run(["stat", "-f", "-c", "%T", x], capture_output=True, text=True)
    if kind.stdout.strip() == "tmpfs":
        return None
    probe = os.path.join(x, "probe")
    try:
        with open(probe, "wb") as f:
            f.write(b"x" * 65536)
            os.fsync(f.fileno())
        fd = os.open(probe, os.O_RDONLY | os.O_DIRECT)
        try:
            return x if os.readv(fd, [mmap.mmap(-1, 65536)]) == 65536 else None
        finally:
            os.close(fd)
    except OSError:
        return None
    finally:
        if os.path.exists(probe):
            os.unlink(probe)


def crash_walker(d, extra, tag):
    """SIGSEGV to walk-0 of a long walk case; the case after it must run."""
    out = os.path.join(d, f"crash-{tag}.json")
    cfg = t.write_config({"cases": [
        {"workload": "munmap_threads",
         "params": dict({"size": "8M", "mode": "walk", "threads": 1,
                         "op": "munmap_pmd_halves"}, **extra),
         "repetitions": 100000, "warmup": 0, "timeout": "10m"},
        {"workload": "munmap_threads", "params": {"size": "8M", "threads": 1},
         "repetitions": 2}]}, d)
    p = t.start(["run", cfg, "-o", out, "-q"])
    found = {}

    if t.wait_for(lambda: walker_of(p, found), 60, f"{tag}: the case's walker thread to start"):
        t.check(found["tid"] != found["pid"], "the walker must be a thread, not the process")
        time.sleep(0.3)  # a few repetitions in: released, parked, released...
        if libc.tgkill(found["pid"], found["tid"], signal.SIGSEGV):
            t.check(False, f"tgkill: {os.strerror(ctypes.get_errno())}")
    else:
        p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=300)
    t.check(p.returncode == 1, f"{tag}: exit {p.returncode}, expected 1 (a case failed): {err}")
    rep = t.validate(out)
    c0, c1 = rep["cases"]
    t.check(c0["status"] == "failed" and "SIGSEGV" in (c0["reason"] or "")
            and "timeout" not in (c0["reason"] or "") and c0.get("phase"),
            f"{tag}: crashed walker: {c0['status']}: {c0['reason']} (phase {c0.get('phase')})")
    t.check("hang" not in c0, f"{tag}: a crash must not be reported as a hang")
    t.check(c1["status"] == "ok", f"{tag}: the case after the crash: {c1['status']} {c1['reason']}")
    if found:
        t.check(not t.processes_in_group(found["pid"]),
                f"{tag}: a process of the crashed case outlived it")
        t.check(not os.path.exists(f"/proc/{found['pid']}/task/{found['tid']}"),
                f"{tag}: the walker thread outlived its case")
    return c0


with t.machine_lock(), t.tmpdir() as d:
    before, left = t.knobs(), t.leftovers()
    crash_walker(d, {}, "vmsplice")
    t.check_knobs_equal(before, "after the crashed walker")

    # the O_DIRECT walker's file, recorded before it existed, goes right
    # after the crashed case
    os.makedirs(os.path.join(d, "odirect"))
    own = odirect_dir(os.path.join(d, "odirect"))
    if not own:
        print(f"SKIP (O_DIRECT parts): {d} does not read with O_DIRECT into pinned pages")
    else:
        c0 = crash_walker(d, {"walker": "odirect", "dir": own}, "odirect")
        t.check(any("removed " + own in line for line in c0["log"]),
                f"mmrepro must remove the crashed case's file and say so: {c0['log']}")
        t.check(not odirect_files(own), f"the crashed case's file is left: {odirect_files(own)}")
        t.check_knobs_equal(before, "after the crashed O_DIRECT walker")
        t.check_no_leftovers(left, "after the crashed O_DIRECT walker")

        # SIGKILL of mmrepro during an O_DIRECT walk: the case dies with it, the
        # file stays, recorded, until `mmrepro restore` removes it
        p = t.start(["run", "munmap_threads", "--set", "size=8M", "--set", "mode=walk",
                     "--set", "walker=odirect", "--set", f"dir={own}", "--set", "threads=1",
                     "--set", "repetitions=100000", "--set", "warmup=0", "-q",
                     "-o", os.path.join(d, "killed.json")], start_new_session=True)
        found = {}
        if t.wait_for(lambda: odirect_files(own) and walker_of(p, found), 60,
                      "the O_DIRECT walker and its file"):
            time.sleep(0.3)
            files = odirect_files(own)
            p.kill()
            p.wait()
            t.wait_for(lambda: not t.session_processes(p.pid), 10, "the case to die with mmrepro")
            t.check(odirect_files(own) == files and t.leftovers()["records"],
                    f"after SIGKILL the file stays, recorded: {odirect_files(own)} "
                    f"{t.leftovers()['records']}")
            r = t.run(["restore"], check_rc=0)
            t.check(not odirect_files(own),
                    f"`mmrepro restore` left the file: {odirect_files(own)}")
            t.check(all(f in r.stderr for f in files),
                    f"restore names what it removed: {r.stderr!r}")
        else:
            p.kill()
            p.wait()
            t.run(["restore"], check_rc=0)
        t.check_knobs_equal(before, "after SIGKILL and restore")
        t.check_no_leftovers(left, "after SIGKILL and restore", sid=p.pid)
t.done("test_munmap_threads_crash")
