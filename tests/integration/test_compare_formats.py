#!/usr/bin/env python3
"""Every output format of `mmrepro compare` and `mmrepro report` on two fixed
reports (tests/integration/data/compare-*.json: an improvement, regressions
of a lower- and a higher-is-better metric, a change below the noise floor,
an inconclusive metric, too few samples, an info metric, a case only in the
new report, and two fingerprint differences).

Text and markdown must equal the golden files in tests/integration/golden/
(MMREPRO_UPDATE_GOLDEN=1 rewrites them after a deliberate change). JSON must
be valid against reports/compare.schema.json and carry the same verdicts;
the github-action-benchmark and Bencher files must have their documented
shapes; --fail-on, --metric, --fdr and several outputs in one run work.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmrtest as t  # noqa: E402
import synth  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
GOLDEN = os.path.join(HERE, "golden")
BASE, NEW = "compare-base.json", "compare-new.json"


def run(args, rc):
    return t.run(args, check_rc=rc, cwd=DATA)


def golden(name, text):
    path = os.path.join(GOLDEN, name)
    if os.environ.get("MMREPRO_UPDATE_GOLDEN"):
        os.makedirs(GOLDEN, exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        print(f"updated {path}")
    with open(path) as f:
        want = f.read()
    if not t.check(text == want, f"{name} differs from the golden file"):
        import difflib
        sys.stderr.writelines(difflib.unified_diff(want.splitlines(True), text.splitlines(True),
                                                   "golden/" + name, "output"))


for f in (BASE, NEW):
    t.validate(os.path.join(DATA, f))

# text (the default) and markdown; a regression makes the exit status 6
golden("compare.txt", run(["compare", BASE, NEW], 6).stdout)
golden("compare.md", run(["compare", "--format", "markdown", BASE, NEW], 6).stdout)
golden("report.txt", run(["report", BASE], 0).stdout)
golden("report.md", run(["report", "-f", "md", BASE], 0).stdout)

with t.tmpdir() as d:
    # the layout of STATISTICS.md fits a mail's 80 columns for such names
    rng = synth.rng(3)
    pair = []
    for rel, f in (("6.1.0-56", 1.0), ("6.12.107", 0.7)):
        ms = {m: ("ns", "lower", synth.lognormal(rng, 15, med * f, 1.0))
              for m, med in (("fork_ns", 14.31e6), ("munmap_ns", 23.79e6))}
        pair.append(synth.write(synth.report([synth.case(0, {"size": "1G", "backing": "thp-pte"},
                                                         ms)], release=rel),
                                os.path.join(d, rel + ".json")))
    text = t.run(["compare", *pair], check_rc=0).stdout
    for line in text.split("\n\n", 1)[1].splitlines():  # below the file list
        t.check(len(line) <= 80, f"text line over 80 columns: {line!r}")
    t.check("*" in text and "p=0.000 n=15" in text, text)

with t.tmpdir() as d:
    out = {k: os.path.join(d, k) for k in ("j", "md", "html", "b", "gs", "gb")}
    r = run(["compare", BASE, NEW, "--json", out["j"], "--markdown", out["md"], "--bencher",
             out["b"], "--gab-smaller", out["gs"], "--gab-bigger", out["gb"], "-f", "text"], 6)
    t.check(r.stdout.startswith("mmrepro compare:"), "stdout keeps the text with file outputs")
    doc = json.load(open(out["j"]))
    synth.validate_compare(doc)
    t.check(doc["kind"] == "compare" and doc["exit_code"] == 6 and doc["comparable"], doc["kind"])
    v = {m["name"]: m["comparisons"][0] for m in doc["cases"][0]["metrics"]}
    expect = {"fork_ns": "improvement", "munmap_ns": "improvement", "fork_exit_ns": "same",
              "cow_write_ns_per_page": "regression", "child_vmpte_kb": "improvement",
              "faults_per_s": "regression", "noisy_ns": "inconclusive", "migrations": "changed"}
    for k, want in expect.items():
        t.check(v[k]["verdict"] == want, f"{k}: verdict {v[k]['verdict']}, expected {want}")
    t.check(v["fork_ns"]["delta_pct"] < -25 and v["fork_ns"]["gain_pct"] > 25, v["fork_ns"])
    t.check(v["faults_per_s"]["delta_pct"] < 0 and v["faults_per_s"]["gain_pct"] < 0,
            "higher is better: fewer faults/s is a loss")
    t.check(v["noisy_ns"]["need_per_side"] > 15, v["noisy_ns"])
    few = doc["cases"][1]["metrics"][0]["comparisons"][0]
    t.check(few["verdict"] == "too_few" and few["need_per_side"] == 4, few)
    t.check([c["key"] for c in doc["differences"]] == ["kernel.cmdline", "knobs.thp.enabled"],
            doc["differences"])
    t.check(any(w.startswith("not in 6.1.0-56: ") for w in doc["warnings"]), doc["warnings"])
    t.check(open(out["md"]).read() == open(os.path.join(GOLDEN, "compare.md")).read(),
            "--markdown FILE equals the stdout markdown")

    gs, gb = json.load(open(out["gs"])), json.load(open(out["gb"]))
    for entries, want_dir in ((gs, "lower"), (gb, "higher")):
        t.check(entries and all(set(e) <= {"name", "unit", "value", "range", "extra"} and
                                isinstance(e["value"], float) for e in entries), entries[:2])
    names = [e["name"] for e in gs]
    t.check("fork_anon size=1G backing=thp-pte: fork_ns" in names, names)
    t.check(not any("faults_per_s" in n or "migrations" in n for n in names),
            "smaller-is-better holds only lower-is-better metrics")
    t.check([e["name"] for e in gb] == ["fork_anon size=1G backing=thp-pte: faults_per_s"], gb)
    fork = next(e for e in gs if e["name"].endswith("thp-pte: fork_ns"))
    t.check(abs(fork["value"] - v["fork_ns"]["cost_ratio"] * 14339000) < 2e4 and
            fork["range"].startswith("\u00b1 ") and "improvement" in fork["extra"], fork)

    bmf = json.load(open(out["b"]))
    m = bmf["fork_anon size=1G backing=thp-pte"]["fork_ns"]
    t.check(m["lower_value"] <= m["value"] <= m["upper_value"], m)
    t.check("fork_anon size=1G backing=mthp-64K" in bmf, list(bmf))

    # --fail-on: a threshold above the regressions passes; never always passes
    run(["compare", BASE, NEW, "--fail-on", "10%"], 0)
    run(["compare", BASE, NEW, "--fail-on", "5%"], 6)
    run(["compare", BASE, NEW, "--fail-on", "never"], 0)
    # --metric keeps only the matching metrics (and so no regression here)
    r = run(["compare", BASE, NEW, "-m", "fork*", "-m", "munmap_ns", "-f", "json"], 0)
    names = {m["name"] for c in json.loads(r.stdout)["cases"] for m in c["metrics"]}
    t.check(names == {"fork_ns", "fork_exit_ns", "munmap_ns"}, names)
    r = run(["compare", BASE, NEW, "-m", "fork_nss"], 0)
    t.check("Note: --metric fork_nss matches no metric" in r.stdout, r.stdout[:800])
    # --fdr: q >= p everywhere, and the method is named in the text
    r = run(["compare", BASE, NEW, "--fdr", "-f", "json"], 6)
    cmps = [m["comparisons"][0] for c in json.loads(r.stdout)["cases"] for m in c["metrics"]
            if m["comparisons"][0]["p"] is not None]
    t.check(all(c["q"] >= c["p"] - 1e-15 for c in cmps) and any(c["q"] > c["p"] for c in cmps),
            "BH q-values")
    t.check("Benjamini-Hochberg" in run(["compare", BASE, NEW, "--fdr"], 6).stdout, "fdr named")
    # report: JSON of one report, no comparisons
    r = run(["report", BASE, "-f", "json"], 0)
    rep = json.loads(r.stdout)
    synth.validate_compare(rep)
    t.check(rep["kind"] == "report" and all(not m["comparisons"] for c in rep["cases"]
                                            for m in c["metrics"]), "report json")
    run(["report", BASE, "--alpha", "0.01"], 2)
    # three reports: every later one against the first
    r = run(["compare", BASE, NEW, NEW, "-f", "json", "--fail-on", "never"], 0)
    doc3 = json.loads(r.stdout)
    synth.validate_compare(doc3)
    t.check([s["report"] for s in doc3["summary"]] == [1, 2] and
            doc3["reports"][1]["label"] != doc3["reports"][2]["label"], doc3["reports"])
t.done("test_compare_formats")
