"""The CWL v1.2 conformance tests tagged ``required``, run by cwltest against plait-cwl-runner.

One test for the whole tag: 83 runner processes, ~120 s of CPU in all (nearly all of it
cwltool's loading and validation in each process), so with ``-j2`` at best about a minute (two
idle cores): 102 s at load average 3.7, 782 s at 14; ``make cwl-conformance`` runs
the full suite and reports each tag. The suite is the shared copy described in its SOURCE.md;
the test fails (never skips) if it is missing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# Tests that need a container engine (DockerRequirement under `requirements`): without one
# plait exits 33 by design, which cwltest counts as a failure for a `required` test.
NEEDS_CONTAINER = ["cwloutput_nolimit"]


def suite_dir() -> Path:
    """The conformance suite: $PLAIT_CWL_SUITE, else ../shared/cwl-v1.2 beside the repo."""
    candidates = [os.environ.get("PLAIT_CWL_SUITE"), REPO.parent / "shared" / "cwl-v1.2",
                  Path("/work/shared/cwl-v1.2")]
    for candidate in candidates:
        if candidate and (Path(candidate) / "conformance_tests.yaml").is_file():
            return Path(candidate)
    raise AssertionError("the CWL v1.2 conformance suite is missing: set PLAIT_CWL_SUITE to "
                         f"its directory (looked in {[str(c) for c in candidates if c]})")


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_required_conformance_tests_pass(tmp_path: Path) -> None:
    runner = Path(sys.executable).parent / "plait-cwl-runner"
    cwltest = Path(sys.executable).parent / "cwltest"
    out = subprocess.run(
        [str(cwltest), "--test", str(suite_dir() / "conformance_tests.yaml"),
         "--tool", str(runner), "-j2", "--timeout", "300", "--tags", "required",
         "-S", ",".join(NEEDS_CONTAINER)],
        # TMPDIR: the runs' directories (kept by failing runs) go where pytest cleans up
        cwd=tmp_path, capture_output=True, text=True, timeout=1100,
        env=dict(os.environ, TMPDIR=str(tmp_path)))
    lines = (out.stdout + out.stderr).splitlines()
    # cwltest's JUnit report mislabels tests when some are filtered out, so read its log:
    # "Test N failed: <the runner's command line>" and the reason on the lines after it.
    failed = ["\n    ".join(lines[i:i + 3]) for i, line in enumerate(lines)
              if " failed: " in line and line.startswith("Test ")]
    summary = next((line for line in reversed(lines) if "tests passed" in line
                    or "All tests passed" in line), lines[-1] if lines else "")
    assert out.returncode == 0 and not failed, (
        f"required conformance tests failed ({summary}):\n" + "\n".join(failed))
