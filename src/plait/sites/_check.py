"""``plait sites check``: run one task on a site and record when, and against which
scheduler version, the entry was last checked.

The check builds the site's Config (with the user's overrides), runs a probe task that
reports where it ran, and, if it succeeds, writes the entry with an updated ``[checked]``
table into the user's directory (a copy, when the entry was shipped or fetched).
"""

from __future__ import annotations

import datetime
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from plait.sites import _toml as tomllib
from plait.sites._build import build_config
from plait.sites._errors import SiteError
from plait.sites._registry import dumps_toml, show, user_dir
from plait.sites._schema import SiteEntry

#: the command whose first output line names each scheduler's version
VERSION_COMMANDS: Mapping[str, list[str]] = {
    "local": ["bash", "--version"], "slurm": ["sinfo", "--version"],
    "pbspro": ["qstat", "--version"], "torque": ["qstat", "--version"],
    "gridengine": ["qstat", "-help"], "condor": ["condor_version"], "lsf": ["lsid"],
    "kubernetes": ["kubectl", "version", "--client"],
}


def scheduler_version(scheduler: str) -> str:
    """The first line the scheduler's version command prints, or why there is none."""
    command = VERSION_COMMANDS.get(scheduler)
    if command is None:
        return f"{scheduler} (no version command)"
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{scheduler} (version unknown: {' '.join(command)} failed: {exc})"
    lines = (out.stdout or out.stderr).strip().splitlines()
    return lines[0].strip() if lines else f"{scheduler} (version unknown)"


def _probe() -> str:
    import platform
    import socket

    return f"{socket.gethostname()} (Python {platform.python_version()})"


def check(name: str, overrides: Mapping[str, Any], timeout: float = 300.0,
          record: bool = True) -> tuple[str, SiteEntry]:
    """Run the probe on site ``name``; return where it ran and the entry as recorded.

    Raises:
        SiteError: the Config cannot be built, or the probe failed or timed out (the entry
            is then left as it was).
    """
    from plait.app._decorators import PythonApp
    from plait.dataflow._kernel import DataFlowKernel

    entry = show(name)
    with tempfile.TemporaryDirectory(prefix="plait-sites-check-") as scratch:
        options = {"run_dir": str(Path(scratch) / "runinfo"), "strategy": "simple",
                   **overrides}
        config = build_config(entry, options)
        with DataFlowKernel(config) as dfk:
            fut = PythonApp(_probe, data_flow_kernel=dfk)()
            try:
                where = str(fut.result(timeout=timeout))
            except Exception as exc:
                raise SiteError(f"site {name}", "check", f"the probe task did not run: "
                                f"{type(exc).__name__}: {exc}") from exc
    if not record:
        return where, entry
    with open(entry.source, "rb") as f:
        data = tomllib.load(f)
    data["checked"] = {"date": datetime.date.today(),
                       "scheduler_version": scheduler_version(entry.scheduler),
                       "method": "run"}
    target = user_dir() / f"{entry.name}.toml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(dumps_toml(data))
    return where, show(name)
