#!/usr/bin/env python3
"""Run the CWL v1.2 conformance suite against plait-cwl-runner and report each tag.

    .venv/bin/python benchmarks/cwl/conformance.py [--tags required] [-j 2] [--json OUT]

Uses cwltest (the suite's own runner) with a JUnit report, then counts per tag: passed,
failed, and unsupported (the runner exited 33: a DockerRequirement with no container
engine). The suite is $PLAIT_CWL_SUITE, else
../shared/cwl-v1.2 beside the repository. Prints one line per tag, the totals, the ten
slowest tests and the unsupported ones; exits 1 if any test failed.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def suite() -> Path:
    for candidate in (os.environ.get("PLAIT_CWL_SUITE"), REPO.parent / "shared" / "cwl-v1.2",
                      "/work/shared/cwl-v1.2"):
        if candidate and (Path(candidate) / "conformance_tests.yaml").is_file():
            return Path(candidate)
    sys.exit("the CWL v1.2 conformance suite is missing: set PLAIT_CWL_SUITE")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tags", default=None, help="only tests with these tags (a,b,...)")
    parser.add_argument("-j", type=int, default=2, help="tests run at once (default 2)")
    parser.add_argument("--runner", default=str(Path(sys.executable).parent /
                                                "plait-cwl-runner"))
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    parser.add_argument("runner_args", nargs="*", help="extra arguments for the runner")
    args = parser.parse_args()
    cwltest = Path(sys.executable).parent / "cwltest"
    with tempfile.TemporaryDirectory(prefix="plait-cwl-conformance-") as tmp:
        report = Path(tmp) / "report.xml"
        command = [str(cwltest), "--test", str(suite() / "conformance_tests.yaml"),
                   "--tool", args.runner, f"-j{args.j}", "--timeout", "300",
                   f"--junit-xml={report}"]
        if args.tags:
            command += ["--tags", args.tags]
        if args.runner_args:
            command += ["--", *args.runner_args]
        start = time.monotonic()
        out = subprocess.run(command, cwd=tmp, capture_output=True, text=True)
        elapsed = time.monotonic() - start
        if not report.exists():
            print(out.stdout[-2000:], out.stderr[-2000:], sep="\n")
            return 1
        root = ET.parse(report).getroot()
    per_tag: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    failures: list[str] = []
    unsupported_tests: list[str] = []
    durations: list[tuple[float, str]] = []
    for case in root.iter("testcase"):
        name = f"{case.get('file')}: {case.get('name')}"
        durations.append((float(case.get("time") or 0), name))
        tags = [t.strip() for t in (case.get("class") or "").split(",") if t.strip()]
        if case.find("failure") is not None or case.find("error") is not None:
            problem = case.find("failure")
            if problem is None:
                problem = case.find("error")
            assert problem is not None
            err = case.find("system-err")
            text = ((problem.get("message") or "") + (problem.text or "")
                    + (err.text if err is not None and err.text else ""))
            unsupported = ("Does not support required feature" in text
                           or "uses unsupported feature" in text)
            outcome = "unsupported" if unsupported else "failed"
            (failures if outcome == "failed" else unsupported_tests).append(name)
        elif case.find("skipped") is not None:
            outcome = "unsupported"
            unsupported_tests.append(name)
        else:
            outcome = "passed"
        for tag in [*tags, "ALL"]:
            per_tag[tag][outcome] += 1
    print(f"{'tag':32} {'passed':>7} {'failed':>7} {'unsupp.':>7} {'total':>6}")
    for tag in sorted(per_tag, key=lambda t: (t == "ALL", t)):
        c = per_tag[tag]
        print(f"{tag:32} {c['passed']:7} {c['failed']:7} {c['unsupported']:7} "
              f"{sum(c.values()):6}")
    print(f"wall time {elapsed:.0f} s with -j{args.j}; load average "
          f"{os.getloadavg()[0]:.2f} at the end")
    for seconds, name in sorted(durations, reverse=True)[:10]:
        print(f"SLOW {seconds:6.1f} s {name}")
    for name in unsupported_tests:
        print(f"UNSUPPORTED {name}")
    for failure in failures:
        print(f"FAILED {failure}")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"per_tag": {t: dict(c) for t, c in per_tag.items()}, "failures": failures,
             "unsupported": unsupported_tests,
             "durations": {name: seconds for seconds, name in durations},
             "seconds": round(elapsed, 1), "jobs": args.j}, indent=2))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
