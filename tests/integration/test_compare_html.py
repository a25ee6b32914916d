#!/usr/bin/env python3
"""The HTML page of `mmrepro compare`, opened in headless Chromium.

The page must be self-contained (no external reference), its DOM after
rendering must hold the comparability table, one metrics table per case and
one inline SVG plot per metric with samples; a screenshot must show both
reports' sample colours in the plot area (the plots are drawn, not blank).
Without gnuplot the page says so, has the tables and no plot, and compare
still succeeds. `mmrepro report --html` renders too.
"""
# ctest-labels: html
# ctest-timeout: 600
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmrtest as t  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
BASE, NEW = os.path.join(DATA, "compare-base.json"), os.path.join(DATA, "compare-new.json")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM:
    t.skip("headless Chromium is not installed (apt-get install chromium)")
if not shutil.which("gnuplot"):
    t.skip("gnuplot is not installed (apt-get install gnuplot-nox)")
try:
    from PIL import Image
except ImportError:
    t.skip("python3-pil is not installed (reads the screenshot)")

BLUE, ORANGE = (0x1f, 0x77, 0xb4), (0xff, 0x7f, 0x0e)  # the first two reports' colours


def chromium(d, page, *args):
    profile = os.path.join(d, "profile-" + str(len(os.listdir(d))))
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={profile}", *args, "file://" + page]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    shutil.rmtree(profile, ignore_errors=True)
    return p


def near(px, rgb, tol=40):
    return all(abs(a - b) <= tol for a, b in zip(px[:3], rgb))


with t.tmpdir() as d:
    page = os.path.join(d, "compare.html")
    r = t.run(["compare", BASE, NEW, "--html", page, "-f", "json"], check_rc=6)
    html = open(page).read()
    t.check(not re.search(r'(src|href)="(https?:)?//', html), "the page loads nothing from outside")
    t.check(html.count("<svg") == 10, f"one plot per metric with samples: {html.count('<svg')}")

    p = chromium(d, page, "--dump-dom")
    t.check(p.returncode == 0, f"chromium --dump-dom: exit {p.returncode}: {p.stderr[-800:]}")
    dom = p.stdout
    t.check(dom.count('<table class="metrics">') == 3, "a metrics table per case")
    t.check(dom.count("<svg") == 10 and dom.count('class="plot"') == 10, "plots in the DOM")
    t.check("Comparability" in dom and "knobs.thp.enabled" in dom, "comparability table")
    t.check('<tr class="regression">' in dom and '<tr class="improvement">' in dom, "verdict rows")
    t.check("Uncaught" not in p.stderr and "CONSOLE" not in p.stderr, p.stderr[-800:])

    shot = os.path.join(d, "shot.png")
    p = chromium(d, page, f"--screenshot={shot}", "--window-size=1400,2400",
                 "--hide-scrollbars")
    t.check(p.returncode == 0 and os.path.exists(shot), f"screenshot: {p.stderr[-800:]}")
    if os.path.exists(shot):
        img = Image.open(shot).convert("RGB")
        w, h = img.size
        px = img.load()
        blue = sum(near(px[x, y], BLUE) for x in range(0, w, 2) for y in range(0, h, 2))
        orange = sum(near(px[x, y], ORANGE) for x in range(0, w, 2) for y in range(0, h, 2))
        print(f"screenshot {w}x{h}: {blue} base-coloured and {orange} new-coloured pixels "
              "(every 2nd pixel sampled)")
        t.check(blue > 200 and orange > 200, "both reports' samples are drawn in the plots")

    # without gnuplot: the page says so and keeps the tables
    env = dict(os.environ, MMREPRO_GNUPLOT="/nonexistent/gnuplot")
    bare = os.path.join(d, "bare.html")
    r = t.run(["compare", BASE, NEW, "--html", bare, "--fail-on", "never"], check_rc=0, env=env)
    text = open(bare).read()
    t.check('id="no-plots"' in text and "gnuplot" in text and "<svg" not in text, text[:600])
    t.check(text.count('<table class="metrics">') == 3, "tables without plots")
    t.check("no plots" in r.stderr and "gnuplot" in r.stderr, r.stderr)
    p = chromium(d, bare, "--dump-dom")
    t.check(p.returncode == 0 and "Plots omitted" in p.stdout, "the page without plots renders")

    # one report
    one = os.path.join(d, "report.html")
    t.run(["report", BASE, "--html", one], check_rc=0)
    text = open(one).read()
    t.check(text.count("<svg") == 9 and "95% CI of the median" in text, "report --html")
    left = [f for f in os.listdir(os.environ.get("TMPDIR", "/tmp")) if f.startswith("mmrepro-plot-")]
    t.check(not left, f"gnuplot temp dirs left behind: {left}")
t.done("test_compare_html")
