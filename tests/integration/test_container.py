#!/usr/bin/env python3
"""The Dockerfile builds an image whose entry point is a working mmrepro.

No Docker engine runs here, so: a debian:12 base is made with debootstrap
(minbase) and imported into podman (both cached: the tarball under the cache
dir, the image in podman's store), the Dockerfile is built with
`podman build --isolation=chroot` (podman run fails on this machine's
cgroup/rlimit limits), and the image's own files are then run through
`podman image mount` + chroot: `mmrepro --version` and `mmrepro list`, with
the entry point, the installed data (configs, schema, vm scripts) and the
run-time libraries checked. The test image and its mount are removed on
every path; the base image and podman's layer cache are kept, so later runs
rebuild only what changed; the untagged build-stage images this run made
are removed.
"""
# ctest-labels: container
# ctest-timeout: 2400
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmrtest as t  # noqa: E402

if os.geteuid() != 0:
    t.skip("needs root (debootstrap, podman's store, chroot)")
for tool in ("podman", "debootstrap"):
    if not shutil.which(tool):
        t.check(False, f"{tool} is missing (apt-get install {tool}; ./bootstrap installs it)")
        t.done("test_container")

CACHE = os.path.join(os.environ.get("MMREPRO_CACHE_DIR", "/var/cache/mmrepro"), "container")
BASE = "localhost/mmrepro-base:debian12"
IMAGE = f"localhost/mmrepro-test:{os.getpid()}"
PODMAN = ["podman", "--cgroup-manager=cgroupfs"]


def sh(args, timeout=1800, **kw):
    print("$", " ".join(args), flush=True)
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)


def ensure_base():
    if sh(PODMAN + ["image", "exists", BASE]).returncode == 0:
        return True
    tarball = os.path.join(CACHE, "debian12-minbase.tar")
    if not os.path.exists(tarball):
        os.makedirs(CACHE, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="mmrepro-debootstrap-", dir="/var/tmp") as root:
            p = sh(["debootstrap", "--variant=minbase", "bookworm", root,
                    "http://deb.debian.org/debian"])
            if not t.check(p.returncode == 0, f"debootstrap: {p.stdout[-1500:]} {p.stderr[-1500:]}"):
                return False
            p = sh(["tar", "-C", root, "-cf", tarball + ".tmp", "."])
            if not t.check(p.returncode == 0, f"tar: {p.stderr}"):
                return False
            os.rename(tarball + ".tmp", tarball)
    p = sh(PODMAN + ["import", "--change", "CMD [\"/bin/bash\"]", tarball, BASE])
    return t.check(p.returncode == 0, f"podman import: {p.stderr}")


def in_image(root, *args):
    # the image's own PATH inside, the host's chroot outside
    return sh([shutil.which("chroot") or "/usr/sbin/chroot", root] + list(args), timeout=60,
              env={"PATH": "/usr/local/bin:/usr/bin:/bin"})


def dangling():
    p = sh(PODMAN + ["images", "-q", "--no-trunc", "--filter", "dangling=true"])
    return set(p.stdout.split())


if ensure_base():
    mounted = None
    dangling_before = dangling()
    try:
        # the two dependency stages, tagged so that they outlive the test image
        # (later runs reuse them); then the image itself
        for target, tag in (("build-deps", "localhost/mmrepro-build-deps:debian12"),
                            ("run-deps", "localhost/mmrepro-run-deps:debian12"), (None, IMAGE)):
            p = sh(PODMAN + ["build", "--isolation=chroot", "--pull=never", "--build-arg",
                             f"BASE={BASE}", "-t", tag, "-f", os.path.join(t.SOURCE, "Dockerfile")]
                   + (["--target", target] if target else []) + [t.SOURCE], timeout=2000)
            if not t.check(p.returncode == 0,
                           f"podman build {target or ''}: {p.stdout[-3000:]}\n{p.stderr[-3000:]}"):
                break
        else:
            p = sh(PODMAN + ["image", "inspect", IMAGE])
            cfg = json.loads(p.stdout)[0]["Config"] if p.returncode == 0 else {}
            t.check(cfg.get("Entrypoint") == ["mmrepro"], f"entry point: {cfg.get('Entrypoint')}")
            p = sh(PODMAN + ["image", "mount", IMAGE])
            if t.check(p.returncode == 0, f"podman image mount: {p.stderr}"):
                mounted = p.stdout.strip()
            if mounted:
                # running mmrepro: hold the machine lock, as every test that does
                with t.machine_lock():
                    r = in_image(mounted, "mmrepro", "--version")
                    t.check(r.returncode == 0 and r.stdout.startswith("mmrepro "),
                            f"mmrepro --version in the image: {r.returncode} {r.stdout} {r.stderr}")
                    r = in_image(mounted, "mmrepro", "list")
                    t.check(r.returncode == 0 and "fork_anon" in r.stdout and "fork_ns" in r.stdout,
                            f"mmrepro list in the image: {r.returncode} {r.stdout[:300]} {r.stderr}")
                share = os.path.join(mounted, "usr/local/share/mmrepro")
                for rel in ("configs/suites/quick.json", "reports/report.schema.json",
                            "scripts/vm-init", "scripts/mmrepro-debian-kernel"):
                    t.check(os.path.exists(os.path.join(share, rel)), f"not in the image: {rel}")
                t.check(os.path.exists(os.path.join(mounted, "usr/bin/gnuplot")),
                        "gnuplot (compare --html's plots) is not in the image")
                t.check(not os.path.exists(os.path.join(mounted, "usr/bin/cc")),
                        "the image should not carry the compiler (two stages)")
    finally:
        if mounted:
            p = sh(PODMAN + ["image", "unmount", IMAGE])
            t.check(p.returncode == 0, f"podman image unmount: {p.stderr}")
        sh(PODMAN + ["rmi", "-f", IMAGE])
        # the build stage's last layer (the compiled tree) is left untagged;
        # the layers below it (the installed build dependencies) stay cached
        for image in dangling() - dangling_before:
            sh(PODMAN + ["rmi", image])
    t.check(sh(PODMAN + ["image", "exists", IMAGE]).returncode != 0, "the test image was left")
    if mounted:
        with open("/proc/self/mountinfo") as f:
            t.check(mounted not in f.read(), f"the image mount {mounted} was left")
t.done("test_container")
