"""`plait migrate` on scripts and a notebook written the way Parsl's tutorials write them:
only Parsl identifiers and module paths change, the diff is printed unless --write, the
report names what plait does differently, and the migrated files run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from plait.cli._main import main
from plait.migrate import FEATURES, migrate_source
from plait.migrate._files import migrate_cell

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parents[2]


@pytest.fixture
def work(tmp_path: Path) -> Path:
    shutil.copytree(DATA, tmp_path / "scripts")
    return tmp_path / "scripts"


def run_python(args: list[str], cwd: Path, timeout: float = 120) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                         text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_only_identifiers_and_module_paths_change() -> None:
    source = (
        "import parsl, parsl.app.app as pa  # parsl stays in comments\n"
        "from parsl.executors import HighThroughputExecutor as HTEX\n"
        "log = logging.getLogger('parsl')\n"
        "paths = ['parsl.dataflow.dflow', r\"parsl\", b'parsl', f'parsl.{x}']\n"
        "text = 'parsl is great'; doc = '''parsl.app'''\n"
        "def app(parsl_resource_specification={}): return ParslPoolExecutor, obj.parsl\n"
        "open('parsl.log'); importlib.import_module('parsl.configs.' + site)\n"
    )
    migrated, changes = migrate_source(source)
    assert migrated == (
        "import plait, plait.app.app as pa  # parsl stays in comments\n"
        "from plait.executors import HighThroughputExecutor as HTEX\n"
        "log = logging.getLogger('plait')\n"
        "paths = ['plait.dataflow.dflow', r\"plait\", b'parsl', f'parsl.{x}']\n"
        "text = 'parsl is great'; doc = '''plait.app'''\n"
        "def app(parsl_resource_specification={}): return ParslPoolExecutor, obj.parsl\n"
        "open('parsl.log'); importlib.import_module('plait.configs.' + site)\n"
    )
    assert len(changes) == 8
    assert migrate_source(migrated)[1] == []  # a second run changes nothing


def test_notebook_cells_magics_and_pip() -> None:
    assert migrate_cell("!pip install parsl[monitoring]\nimport parsl\n") == (
        "!pip install plait[monitoring]\nimport plait\n", 2)
    assert migrate_cell("%%bash\ncat parsl.log\n") == ("%%bash\ncat parsl.log\n", 0)
    # magics that run Python: their Python is migrated, their options are not
    assert migrate_cell("%time parsl.load()\nx = 1\n") == ("%time plait.load()\nx = 1\n", 1)
    assert migrate_cell("%timeit -n1 -r1 parsl.dfk()  # parsl\n") == (
        "%timeit -n1 -r1 plait.dfk()  # parsl\n", 1)
    assert migrate_cell("%%time\nimport parsl\nparsl.load(c)\n") == (
        "%%time\nimport plait\nplait.load(c)\n", 2)
    assert migrate_cell("%matplotlib inline\nimport parsl\n") == (
        "%matplotlib inline\nimport plait\n", 1)
    assert migrate_cell('%time print("unterminated\n') == ('%time print("unterminated\n', 0)


def test_diff_by_default_then_write(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = work / "tutorial_quickstart.py"
    before = script.read_text()
    assert main(["migrate", str(work)]) == 0
    out, err = capsys.readouterr()
    assert f"+++ b/{str(script).lstrip('/')}" in out
    assert "\n-import parsl\n" in out and "\n+import plait\n" in out
    assert script.read_text() == before  # a diff only
    assert "7 file(s) would change" in err
    assert main(["migrate", "--check", str(work)]) == 1
    assert main(["migrate", "--write", str(work)]) == 0
    migrated = script.read_text()
    assert "import parsl\n" not in migrated and "from plait.configs.local_threads" in migrated
    assert "# (Test data for `plait migrate`: the word parsl in this comment must stay.)" \
        in migrated and 'print("parsl is great")' in migrated
    capsys.readouterr()
    assert main(["migrate", "--check", str(work)]) == 0  # nothing left to change


def test_report_names_the_differences(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    extra = work / "uses_more.py"
    extra.write_text(
        "import parsl\n"
        "from parsl.executors import WorkQueueExecutor\n"
        "from parsl.curvezmq import ServerContext\n"
        "from parsl.executors.high_throughput.interchange import Interchange\n"
        "from parsl.utils import setproctitle\n"
        "install_requires = ['parsl>=2024.1']\n"
        "future.cancel()\n"
        "config = parsl.Config(retries=2)\n")
    assert main(["migrate", str(work)]) == 0
    err = capsys.readouterr().err
    assert "htex_workflow.py: line 41: End of `with load(config):`: exit_mode='wait'" in err
    assert "htex_workflow.py: line 15: HighThroughputExecutor heartbeats" in err
    assert "WorkQueueExecutor raises ExecutorNotShipped" in err
    assert "plait has no module plait.curvezmq (Parsl's parsl.curvezmq)" in err
    assert "plait has no module plait.executors.high_throughput.interchange" in err
    assert "plait.utils has no setproctitle" in err  # a name, in a plain module
    assert "the string 'parsl>=2024.1' is left as it is" in err
    assert "`AppFuture.cancel()`" in err
    assert ("uses_more.py: line 8: Tasks lost with a worker, manager or block (`retries=`): "
            "retried on Config(infrastructure_retries=3)") in err
    extra.write_text("from parsl.configs.wqex_local import config\n"
                     "from parsl.serialize.facade import register_method_for_data\n"
                     "register_method_for_data(PickleSerializer())\n")
    assert main(["migrate", str(extra)]) == 0
    err = capsys.readouterr().err
    assert ("line 1: Work Queue, TaskVine, Flux, RADICAL-Pilot, Globus Compute executors: "
            "plait.configs.wqex_local's config is a WorkQueueExecutor") in err
    assert "line 3: Serialization of arguments, results and functions: pickle protocol 5" in err
    extra.write_text("from parsl.configs.delta import fresh_config\n")
    assert main(["migrate", str(extra)]) == 0
    err = capsys.readouterr().err
    assert ("line 1: `parsl.configs.<site>`: site delta needs account: use config = "
            "fresh_config(account=...) from plait.configs.delta") in err



@pytest.mark.timeout(240)
def test_migrated_scripts_run(work: Path) -> None:
    """Each script printed the same lines under Parsl 2026.10.26 before migration."""
    assert main(["migrate", "--write", "--no-report", str(work)]) == 0
    quick = run_python(["tutorial_quickstart.py"], work)
    assert quick.splitlines() == ["Hello World (Python)", "Hello World (Bash)",
                                  quick.splitlines()[2], "Total: True", "parsl is great"]
    assert quick.splitlines()[2].startswith("Average: 3.")
    htex = run_python(["htex_workflow.py"], work)
    assert "squares: [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]" in htex and "sum: 285" in htex
    guide = run_python(["docs_userguide.py"], work)
    assert run_python(["-m", "pkg_workflow"], work) == "words: 6\n"  # a package, run as one
    assert guide.splitlines() == [
        "bash app failed with exit code 3", "htex: 42", "cached: 8 8",
        "record: slow_double True ['app_fu', 'args', 'depends']", "checkpoints: True",
        "from checkpoint: 8 True", "pool map: [0, 1, 8, 27]", "python 3"]


@pytest.mark.timeout(180)
def test_migrated_notebook_runs_in_a_kernel(work: Path) -> None:
    """The migrated notebook, magics included, executed by a real IPython kernel."""
    import nbformat
    from nbclient import NotebookClient

    assert main(["migrate", "--write", "--no-report", str(work / "tutorial.ipynb")]) == 0
    notebook = nbformat.read(work / "tutorial.ipynb", as_version=4)
    assert notebook.cells[0].source.startswith("# Parsl tutorial\n")  # prose untouched
    assert notebook.cells[1].source == "!pip install plait[monitoring]"
    del notebook.cells[1]  # installs from PyPI: not run here
    client = NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(work)}})
    client.km_kwargs = {"kernel_cmd": [sys.executable, "-m", "ipykernel_launcher", "-f",
                                       "{connection_file}"],
                        "env": {**os.environ, "PYTHONPATH": str(ROOT / "src")}}
    client.execute()
    printed = ["".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
               for cell in notebook.cells if cell.cell_type == "code"]
    assert printed[0] == "True\n" and printed[2] == "[0, 2, 4]\n"
    assert printed[3].startswith("True 6\n") and "Wall time" in printed[3]  # %%time ran
    assert "waited\n" in printed[4] and "Wall time" in printed[4]  # so did %time
    assert printed[5] == "parsl.log is a file name here\n"  # %%bash, left as it was


def test_report_names_what_is_not_in_this_release(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A path that resolves later (NotYetAvailable) is reported with its own message."""
    import importlib.machinery
    import types

    from plait.errors import NotYetAvailable
    from plait.migrate._differences import find_differences

    def not_yet(name: str) -> object:
        raise NotYetAvailable(name, "plait.later_path", "use Other meanwhile")

    later = types.ModuleType("plait.later_path")
    later.__spec__ = importlib.machinery.ModuleSpec("plait.later_path", None)
    later.__getattr__ = not_yet  # type: ignore[method-assign]
    monkeypatch.setitem(sys.modules, "plait.later_path", later)
    [finding] = find_differences("from plait.later_path import Thing\n")
    assert finding.key == "missing-path" and "plait.later_path.Thing is not in plait" in \
        finding.detail and "use Other meanwhile" in finding.detail


def test_notebook_keeps_its_json_layout(work: Path) -> None:
    from plait.migrate._files import migrate_notebook

    path = work / "tutorial.ipynb"
    result = migrate_notebook(path)
    changed = [line for line in result.diff().splitlines()
               if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))]
    assert all("parsl" in line or "plait" in line for line in changed)
    assert len(changed) == 2 * 10  # ten lines of code cells change, nothing else


def test_unreadable_file_is_reported_not_rewritten(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "py2.py"
    bad.write_text("import parsl\nprint 'hi\n")
    latin = tmp_path / "latin.py"
    latin.write_bytes(b"import parsl  # caf\xe9\n")
    assert main(["migrate", "--write", str(bad), str(latin)]) == 1
    err = capsys.readouterr().err
    assert "py2.py: not migrated: the tokenizer cannot read it" in err
    assert "latin.py: not migrated: not UTF-8 text" in err
    assert bad.read_text() == "import parsl\nprint 'hi\n"


def test_readme_lists_every_difference() -> None:
    readme = (ROOT / "README.md").read_text()
    for f in FEATURES:  # the README's table is this data, row for row
        assert f"| {f.title} | {f.parsl} | {f.plait} |" in readme, f.key
