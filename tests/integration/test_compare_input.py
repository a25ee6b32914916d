#!/usr/bin/env python3
"""Bad input to `mmrepro compare` and `mmrepro report`: one clear line on
stderr and its own exit code, never a crash.

Empty, truncated, not-JSON, schema-invalid and other-schema_version reports;
missing files; bad options; reports that are not comparable (parameters,
accelerator, nothing in common), and a report from before a parameter
existed, which compares as its default. Then a fuzz pass: 500 seeded mutations of
a valid report (cut at any byte, bytes flipped, keys deleted, values replaced
by other types, huge and odd numbers) must each end with exit 0, 6, 7, 8 or
9 and, on 8 or 9, exactly one line on stderr that names the file. The ASan
build runs the same test, so a memory error fails it.
"""
import copy
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmrtest as t  # noqa: E402
import synth  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
GOOD = os.path.join(DATA, "compare-base.json")


def one_line(r, *words):
    lines = r.stderr.strip().splitlines()
    ok = len(lines) == 1 and all(w in lines[0] for w in words)
    t.check(ok, f"expected one stderr line with {words}, got {r.stderr!r}")
    return ok


with t.tmpdir() as d:
    def path(name, text):
        p = os.path.join(d, name)
        with open(p, "w") as f:
            f.write(text)
        return p

    good_text = open(GOOD).read()
    good = json.loads(good_text)
    cases = [
        ("empty", "", "empty file", 8),
        ("blank", " \n\n", "empty file", 8),
        ("truncated", good_text[: len(good_text) // 2], "truncated JSON", 8),
        ("garbage", "mmrepro was here\n", "not valid JSON", 8),
        ("array", "[1, 2]", "expected a JSON object", 8),
        ("noversion", json.dumps({k: v for k, v in good.items() if k != "schema_version"}),
         "schema_version", 8),
        ("v2", json.dumps(dict(good, schema_version=2)), "schema_version 2", 9),
        ("badsample", json.dumps(json.loads(good_text.replace('"samples": [\n', '"samples": ["x", ', 1))),
         "samples[0]: expected number", 8),
        ("nocases", json.dumps({k: v for k, v in good.items() if k != "cases"}),
         "required key \"cases\"", 8),
        ("dupkey", good_text.replace('"schema_version": 1,', '"schema_version": 1, "schema_version": 1,', 1),
         "duplicate", 8),
    ]
    for name, text, words, rc in cases:
        p = path(name + ".json", text)
        r = t.run(["compare", GOOD, p], check_rc=rc)
        one_line(r, p, *words.split(" ", 0))
        t.check(words in r.stderr, f"{name}: {r.stderr!r} lacks {words!r}")
        t.check(not r.stdout, f"{name}: nothing on stdout for a bad report")
        t.run(["report", p], check_rc=rc)
    r = t.run(["compare", GOOD, os.path.join(d, "missing.json")], check_rc=8)
    one_line(r, "missing.json", "No such file")

    # command line
    for args in (["compare", GOOD], ["compare"], ["report"], ["report", GOOD, GOOD],
                 ["compare", "--alpha", "2", GOOD, GOOD], ["compare", "--noise-floor", "x", GOOD, GOOD],
                 ["compare", "--fail-on", "sometimes", GOOD, GOOD], ["compare", "-f", "pdf", GOOD, GOOD],
                 ["report", "--force", GOOD]):
        r = t.run(args, check_rc=2)
        t.check(len(r.stderr.strip().splitlines()) == 1, f"{args}: {r.stderr!r}")
    for cmd in ("compare", "report"):
        r = t.run([cmd, "--help"], check_rc=0)
        t.check(r.stdout.startswith(f"usage: mmrepro {cmd}") and "Exit codes" in r.stdout, cmd)
        for code in ("6", "7", "8", "9") if cmd == "compare" else ("8", "9"):
            t.check(f"  {code}  " in r.stdout or f" {code} " in r.stdout, f"{cmd} --help: code {code}")
    t.check("compare" in t.run(["--help"], check_rc=0).stdout, "mmrepro --help lists compare")
    r = t.run(["compare", GOOD, GOOD, "--html", "/nonexistent/dir/x.html"], check_rc=5)
    t.check("/nonexistent/dir/x.html" in r.stderr, r.stderr)

    # not comparable: a parameter differs (unless --force), the accelerator
    # differs (unless --force), nothing in common
    other = copy.deepcopy(good)
    other["cases"] = other["cases"][:1]
    other["cases"][0]["params"]["backing"] = "4k-other"
    other["cases"][0]["id"] = "fork_anon size=1G backing=4k-other"
    base1 = copy.deepcopy(good)
    base1["cases"] = base1["cases"][:1]
    a, b = synth.write(base1, os.path.join(d, "a.json")), synth.write(other, os.path.join(d, "b.json"))
    r = t.run(["compare", a, b], check_rc=7)
    t.check("parameters differ" in r.stderr and "--force" in r.stderr, r.stderr)
    r = t.run(["compare", "--force", a, b, "-f", "json"], check_rc=0)
    doc = synth.validate_compare(json.loads(r.stdout))
    t.check(doc["comparable"] and any("params.backing" in n for n in doc["cases"][0]["notes"]),
            doc["cases"][0]["notes"])
    # a report from before a parameter existed lacks it: it ran the default
    # (pinned=0 for fork_anon), so it matches a report that has it at the
    # default, and differs from one at another value
    newer = copy.deepcopy(base1)
    newer["cases"][0]["params"]["pinned"] = 0.0  # as mmrepro writes it
    n0 = synth.write(newer, os.path.join(d, "newer.json"))
    r = t.run(["compare", a, n0, "-f", "json"], check_rc=0)
    t.check(not any("params." in n for c in json.loads(r.stdout)["cases"] for n in c["notes"]),
            f"an absent parameter is its default: {r.stdout[:600]}")
    newer["cases"][0]["params"]["pinned"] = 0.5
    r = t.run(["compare", a, synth.write(newer, os.path.join(d, "pinned.json"))], check_rc=7)
    t.check("params.pinned" in r.stderr and "(absent)" not in r.stderr, r.stderr)
    tcg = copy.deepcopy(base1)
    tcg["fingerprint"]["virtualization"]["accelerator"] = "tcg"
    c = synth.write(tcg, os.path.join(d, "tcg.json"))
    r = t.run(["compare", a, c], check_rc=7)
    t.check("accelerator" in r.stderr, r.stderr)
    t.run(["compare", "--force", a, c], check_rc=0)
    lone = copy.deepcopy(base1)
    lone["cases"][0]["workload"] = "other_workload"
    r = t.run(["compare", a, synth.write(lone, os.path.join(d, "lone.json"))], check_rc=7)
    t.check("no case in common" in r.stderr, r.stderr)

    # fuzz: mutated reports never crash the tool
    rng = random.Random(1122)

    def mutate(doc):
        doc = copy.deepcopy(doc)
        for _ in range(rng.randint(1, 4)):
            node, parent, key = doc, None, None
            for _ in range(rng.randint(1, 7)):
                if isinstance(node, dict) and node:
                    k = rng.choice(sorted(node))
                elif isinstance(node, list) and node:
                    k = rng.randrange(len(node))
                else:
                    break
                parent, key = node, k
                if not isinstance(node[k], (dict, list)) or rng.random() < 0.2:
                    break
                node = node[k]
            if parent is None:
                continue
            node = parent
            choice = rng.random()
            if choice < 0.25 and isinstance(node, dict):
                del node[key]
            else:
                node[key] = rng.choice([None, True, -1, 0, 1e308, -1e-308, 2 ** 62, "", "x" * 300,
                                        [], {}, [1.5, -2.5], {"n": 3}])
        return doc

    def stress(doc):
        """Changes a valid report stays valid under: odd samples and sizes."""
        doc = copy.deepcopy(doc)
        for c in doc["cases"]:
            for m in list(c["metrics"].values()):
                xs = m["samples"]
                op = rng.randrange(6)
                if op == 0:
                    del xs[rng.randrange(len(xs) + 1):]
                elif op == 1:
                    xs[:] = [rng.choice([0.0, -1.0, 1e300, -1e300, 5e-324, 7.0]) for _ in xs]
                elif op == 2:
                    xs.extend(rng.uniform(-1e6, 1e6) for _ in range(rng.randrange(60)))
                elif op == 3:
                    xs[:] = [xs[0]] * len(xs) if xs else []
            if rng.random() < 0.3 and c["metrics"]:
                del c["metrics"][rng.choice(sorted(c["metrics"]))]
        if rng.random() < 0.3:
            doc["cases"] = doc["cases"] + doc["cases"][:1]
        return doc

    crashes, bad_lines, outcomes = 0, 0, {}
    small = copy.deepcopy(good)
    for i in range(500):
        kind = i % 5
        if kind == 0:
            text = good_text[: rng.randrange(len(good_text))]
        elif kind == 1:
            raw = bytearray(good_text.encode())
            for _ in range(rng.randint(1, 8)):
                raw[rng.randrange(len(raw))] = rng.randrange(256)
            text = raw.decode("latin-1")
        elif kind == 4:
            text = json.dumps(stress(small), allow_nan=False)
        else:
            text = json.dumps(mutate(small), allow_nan=False)
        p = path("fuzz.json", text)
        r = t.run(["compare", "-f", "json", GOOD, p], check_rc=None)
        outcomes[r.returncode] = outcomes.get(r.returncode, 0) + 1
        if r.returncode not in (0, 6, 7, 8, 9):
            crashes += 1
            t.check(False, f"fuzz {i}: exit {r.returncode}: {r.stderr[-500:]!r}")
        elif r.returncode in (8, 9):
            lines = r.stderr.strip().splitlines()
            if len(lines) != 1 or p not in lines[0]:
                bad_lines += 1
                t.check(False, f"fuzz {i}: stderr {r.stderr!r}")
        else:
            synth.validate_compare(json.loads(r.stdout))
    print(f"fuzz: 500 mutated reports, exit codes {dict(sorted(outcomes.items()))}")
    t.check(outcomes.get(8, 0) > 100 and outcomes.get(0, 0) + outcomes.get(6, 0) > 50,
            f"the mutations must hit both valid and invalid reports: {outcomes}")
t.done("test_compare_input")
