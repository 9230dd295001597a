"""How tests reach the real services that ``make services-up`` started (services/*.sh).

A test that needs a service fails, never skips, when the service is not running: CI always
starts them, and a developer is told the command that does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

RUN_DIR = Path(__file__).resolve().parent.parent / "services" / "run"


def service(name: str) -> dict[str, str]:
    """The KEY=VALUE settings that ``services/<name>.sh up`` wrote; fail if it is not up."""
    env_file = RUN_DIR / f"{name}.env"
    if not env_file.exists():
        pytest.fail(f"service {name!r} is not running (no {env_file}): start it with "
                    f"`make services-up` (or `bash services/{name}.sh up`)", pytrace=False)
    settings = {}
    for line in env_file.read_text().splitlines():
        if line.strip():
            key, _, value = line.partition("=")
            settings[key] = value
    return settings
