"""Containers: which engine runs DockerRequirement here, and failing early when none can.

No working container engine (none on PATH, a docker client with no daemon, or
``--no-container``): a DockerRequirement under
``requirements`` cannot be honoured, so the run fails before any job starts with
:class:`CWLUnsupportedRequirement` (cwl-runner exit code 33); under ``hints`` it is ignored
and the tool runs on the host, as ``cwltool --no-container`` does.
"""

from __future__ import annotations

import shutil
from typing import Any

from plait.cwl._errors import CWLUnsupportedRequirement

#: the command that answers 0 only where the engine can run containers
_PROBES = {"docker": ["docker", "info"], "podman": ["podman", "info"],
           "singularity": ["singularity", "--version"]}
_WORKS: dict[str, bool] = {}


def container_engine(context: Any, process: Any = None) -> str | None:
    """The container engine cwltool would use for this run, if it is installed; else None.

    Given the run's ``process``, an engine is looked for only if something in it could run
    in a container (a DockerRequirement, or ``--default-container``): asking a docker client
    that has no daemon takes a noticeable part of a short run's start.
    """
    if not getattr(context, "use_container", True):
        return None
    if process is not None and not getattr(context, "default_container", None) \
            and not any(tool.get_requirement("DockerRequirement")[0] is not None
                        for tool, _ in _processes(process, "")):
        return None
    if getattr(context, "podman", False):
        wanted = "podman"
    elif getattr(context, "singularity", False):
        wanted = "singularity"
    else:
        wanted = "docker"
    return wanted if _works(wanted) else None


def _works(engine: str) -> bool:
    if engine not in _WORKS:
        import subprocess

        probe = _PROBES[engine]
        ok = False
        if shutil.which(probe[0]):
            try:
                ok = subprocess.run(probe, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    timeout=20).returncode == 0
            except (OSError, subprocess.TimeoutExpired):
                ok = False
        _WORKS[engine] = ok
    return _WORKS[engine]


def check_containers(process: Any, engine: str | None) -> None:
    """Raise CWLUnsupportedRequirement if a tool requires a container and none can run."""
    if engine is not None:
        return
    for tool, name in _processes(process, ""):
        req, required = tool.get_requirement("DockerRequirement")
        if req is not None and required:
            image = req.get("dockerPull") or req.get("dockerImageId") or "an image"
            raise CWLUnsupportedRequirement(
                name, f"DockerRequirement ({image})",
                "no working container engine (docker with a running daemon, podman or "
                "singularity) was found, or --no-container was given; install one, or "
                "move DockerRequirement to "
                "'hints' to run the tool on the host")


def _processes(process: Any, prefix: str) -> Any:
    """Every process under ``process`` (itself, steps' tools, recursively), with names."""
    from cwltool.process import shortname

    name = prefix or shortname(process.tool.get("id", "tool"))
    yield process, name
    for step in getattr(process, "steps", ()):
        yield from _processes(step.embedded_tool, f"{name}/{shortname(step.id)}")
