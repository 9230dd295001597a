"""The ``plait`` entry point: version, help on every subcommand, exit statuses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from plait import __version__
from plait.cli._main import build_parser, command_modules, main


def test_version_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"plait {__version__}"


def test_no_command_prints_help_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().err


def test_every_command_module_has_help_and_a_runner() -> None:
    parser = build_parser()
    for name, module in command_modules().items():
        assert module.HELP and module.HELP[0].isupper(), name
        assert callable(module.run) and callable(module.add_arguments), name
        with pytest.raises(SystemExit) as stop:
            parser.parse_args([name, "--help"])
        assert stop.value.code == 0, name


def test_python_dash_m_plait_is_the_command() -> None:
    out = subprocess.run([sys.executable, "-m", "plait", "--version"], capture_output=True,
                         text=True, timeout=60, check=True)
    assert out.stdout.strip() == f"plait {__version__}"


def test_bash_completion_completes_subcommands_and_options(tmp_path: Path) -> None:
    script = tmp_path / "plait.bash"
    assert main_out(["completion", "bash"], script) == 0
    probe = (f"source {script}\n"
             "complete_words() { COMP_WORDS=(\"$@\"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ));"
             " COMPREPLY=(); _shtab_plait; echo \"${COMPREPLY[*]}\"; }\n"
             "complete_words plait st\ncomplete_words plait status --\n")
    out = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    first, second = out.stdout.splitlines()
    assert first.split() == ["status"]
    assert {"--once", "--run", "--list"} <= set(second.split())


def main_out(argv: list[str], path: Path) -> int:
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        status = main(argv)
    path.write_text(buffer.getvalue())
    return status


def test_building_the_parser_imports_no_heavy_library() -> None:
    code = ("import sys; from plait.cli._main import build_parser; build_parser(); "
            "print([m for m in ('sqlalchemy', 'rich', 'starlette', 'uvicorn', 'prov', "
            "'rocrate', 'zmq') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout.strip() == "[]"
