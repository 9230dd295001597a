"""``plait provenance export``: W3C PROV read back by the prov library, and an RO-Crate read
back by rocrate, for a run with dependencies, files in and out, and a failure."""

from __future__ import annotations

from pathlib import Path

import pytest
from prov.model import ProvDocument

from monitored import monitored_kernel
from plait import File, python_app
from plait.cli._main import main
from plait.monitoring import _provenance as P
from plait.monitoring import _queries as Q


@python_app
def write(text: str, outputs: list[File] = ()) -> None:  # type: ignore[assignment]
    with open(outputs[0], "w") as f:
        f.write(text)


@python_app
def count(inputs: list[File] = ()) -> int:  # type: ignore[assignment]
    with open(inputs[0]) as f:
        return len(f.read())


@python_app
def explode() -> None:
    raise ValueError("no")


@pytest.fixture
def run(tmp_path: Path) -> tuple[str, str, Path]:
    url = f"sqlite:///{tmp_path / 'monitoring.db'}"
    out = tmp_path / "hello.txt"
    with monitored_kernel(str(tmp_path / "runinfo"), url) as dfk:
        written = write("hello", outputs=[File(str(out))])
        assert count(inputs=[written.outputs[0]]).result(timeout=30) == 5
        explode().exception(timeout=30)
    return url, dfk.run_id, out


def test_prov_json_reads_back_with_tasks_files_and_dependencies(
        run: tuple[str, str, Path], tmp_path: Path) -> None:
    url, run_id, out = run
    target = tmp_path / "prov.json"
    assert main(["provenance", "export", url, "--format", "prov-json", "-o",
                 str(target)]) == 0
    doc = ProvDocument.deserialize(str(target), format="json")
    with Q.reader(url) as engine, engine.connect() as conn:
        original = P.prov_document(P.load(conn, Q.find_run(conn, url)))
    assert doc == original
    ns = f"urn:plait:run:{run_id}:"
    activities = {r.identifier.uri for r in doc.get_records() if r.get_type().localpart ==
                  "Activity"}
    assert activities == {f"{ns}workflow", f"{ns}task/0", f"{ns}task/1", f"{ns}task/2"}
    relations = {(r.get_type().localpart, *(getattr(v, "uri", v) for _, v in
                                            r.formal_attributes[:2]))
                 for r in doc.get_records() if r.is_relation()}
    file_uri = f"file://{out}"
    assert ("Generation", file_uri, f"{ns}task/0") in relations
    assert ("Usage", f"{ns}task/1", file_uri) in relations
    assert ("Communication", f"{ns}task/1", f"{ns}task/0") in relations
    assert not any(r[0] == "Generation" and r[2] == f"{ns}task/2" for r in relations)


def test_prov_n_and_prov_xml(run: tuple[str, str, Path], tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    url, _, _ = run
    assert main(["provenance", "export", url, "--format", "prov-n"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("document") and "activity(task/1" in text
    assert "wasInformedBy(task/1, task/0" in text
    xml = tmp_path / "prov.xml"
    assert main(["provenance", "export", url, "--format", "prov-xml", "-o", str(xml)]) == 0
    assert len(ProvDocument.deserialize(str(xml), format="xml").get_records()) > 10


def test_workflow_run_ro_crate(run: tuple[str, str, Path], tmp_path: Path) -> None:
    from rocrate.rocrate import ROCrate

    url, run_id, out = run
    target = tmp_path / "crate"
    assert main(["provenance", "export", url, "--format", "ro-crate", "-o",
                 str(target)]) == 0
    crate = ROCrate(str(target))
    actions = {e.id: e for e in crate.get_entities() if e.type == "CreateAction"}
    assert set(actions) == {f"#run-{run_id}", "#task-0", "#task-1", "#task-2"}
    assert actions["#task-0"]["result"][0].id == f"file://{out}"
    assert actions["#task-2"]["actionStatus"].endswith("FailedActionStatus")
    assert crate.mainEntity is not None
