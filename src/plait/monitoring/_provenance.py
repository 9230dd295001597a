"""Provenance of a recorded run: W3C PROV (the prov library) and a Workflow Run RO-Crate.

PROV: the run and each task are activities; every task's result value and every file it
read or wrote (``inputs``, ``outputs``, stdout, stderr) is an entity; a task ``used`` the
values of the tasks it depended on and the files it was given, and was ``wasInformedBy`` those
tasks; outputs ``wasGeneratedBy`` their task. Agents: the user (a Person) and plait and each
executor (SoftwareAgents). Identifiers are URNs under the run's id, so documents of
different runs never clash.
"""

from __future__ import annotations

import datetime
import json
import os
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from plait.monitoring import _queries as Q
from plait.monitoring import _schema as s

VOCAB = "urn:plait:vocab#"


@dataclass
class TaskRecord:
    task_id: int
    app: str
    state: str | None
    depends: list[int]
    inputs: list[str]
    outputs: list[str]
    stdout: str | None
    stderr: str | None
    invoked: datetime.datetime | None
    launched: datetime.datetime | None
    returned: datetime.datetime | None
    executor: str | None
    hashsum: str | None
    fail_count: int


@dataclass
class RunRecord:
    run: Q.Run
    tasks: list[TaskRecord] = field(default_factory=list)


def load(conn: Connection, run: Q.Run) -> RunRecord:
    """Every task of ``run`` with what provenance needs."""
    t, y = s.task, s.try_
    first_try: dict[int, tuple[Any, str]] = {}
    for tid, launched, executor in conn.execute(
            sa.select(y.c.task_id, y.c.task_try_time_launched, y.c.task_executor)
            .where(y.c.run_id == run.run_id).order_by(y.c.try_id.desc())):
        first_try[tid] = (launched, executor)
    finals = Q.final_states(conn, run.run_id)
    record = RunRecord(run)
    for row in conn.execute(sa.select(t).where(t.c.run_id == run.run_id)
                            .order_by(t.c.task_id)).mappings():
        tid = row["task_id"]
        launched, executor = first_try.get(tid, (None, None))
        record.tasks.append(TaskRecord(
            tid, row["task_func_name"], finals.get(tid), _ids(row["task_depends"]),
            _list(row["task_inputs"]), _list(row["task_outputs"]), row["task_stdout"],
            row["task_stderr"], row["task_time_invoked"], launched,
            row["task_time_returned"], executor, row["task_hashsum"],
            row["task_fail_count"]))
    return record


def _ids(text: str | None) -> list[int]:
    return [int(x) for x in (text or "").split(",") if x]


def _list(text: str | None) -> list[str]:
    return [x for x in (text or "").split(",") if x]


def _file_uri(path: str) -> str:
    return path if "://" in path else f"file://{os.path.abspath(path)}"


def prov_document(record: RunRecord) -> Any:
    """The run as a ``prov.model.ProvDocument``."""
    from prov.model import ProvDocument

    run = record.run
    doc = ProvDocument()
    doc.set_default_namespace(f"urn:plait:run:{run.run_id}:")
    plait = doc.add_namespace("plait", VOCAB)
    doc.add_namespace("file", "file:")  # "file:///a/b" is then file + ///a/b
    user = doc.agent(f"user/{run.user}", {"prov:type": "prov:Person",
                                          "plait:host": run.host})
    engine = doc.agent("plait", {"prov:type": "prov:SoftwareAgent"})
    executors: dict[str, Any] = {}
    workflow = doc.activity("workflow", run.began, run.completed, {
        "prov:label": run.name or "unnamed", "plait:run_id": run.run_id,
        "plait:outcome": run.outcome, "plait:rundir": run.rundir})
    doc.wasAssociatedWith(workflow, user)
    doc.wasAssociatedWith(workflow, engine)
    if run.script:
        script = doc.entity(_file_uri(run.script), {"prov:type": plait["Script"]})
        doc.used(workflow, script)
    files: dict[str, Any] = {}

    def file_entity(path: str) -> Any:
        uri = _file_uri(path)
        if uri not in files:
            files[uri] = doc.entity(uri, {"prov:type": plait["File"], "prov:label": path})
        return files[uri]

    for task in record.tasks:
        attrs: dict[str, Any] = {"prov:label": task.app, "plait:app": task.app,
                                 "plait:task_id": task.task_id,
                                 "plait:state": task.state or "unfinished",
                                 "plait:fail_count": task.fail_count}
        if task.hashsum:
            attrs["plait:hashsum"] = task.hashsum
        act = doc.activity(f"task/{task.task_id}", task.launched or task.invoked,
                           task.returned, attrs)
        doc.wasStartedBy(act, starter=workflow)
        if task.executor:
            if task.executor not in executors:
                executors[task.executor] = doc.agent(f"executor/{task.executor}", {
                    "prov:type": "prov:SoftwareAgent", "prov:label": task.executor})
                doc.actedOnBehalfOf(executors[task.executor], engine)
            doc.wasAssociatedWith(act, executors[task.executor])
        for dep in task.depends:
            doc.used(act, f"value/{dep}")
            doc.wasInformedBy(act, f"task/{dep}")
        for path in task.inputs:
            doc.used(act, file_entity(path))
        if task.state in ("exec_done", "memo_done"):
            value = doc.entity(f"value/{task.task_id}", {"prov:type": plait["Value"]})
            doc.wasGeneratedBy(value, act, task.returned)
            for path in task.outputs:
                doc.wasGeneratedBy(file_entity(path), act, task.returned)
        for stream in (task.stdout, task.stderr):
            if stream:
                doc.wasGeneratedBy(file_entity(stream), act)
    return doc


def serialize_prov(record: RunRecord, fmt: str) -> str:
    doc = prov_document(record)
    if fmt == "prov-json":
        return str(doc.serialize(format="json", indent=1))
    if fmt == "prov-xml":
        return str(doc.serialize(format="xml"))
    return str(doc.get_provn())


def write_ro_crate(record: RunRecord, out: str) -> None:
    """A Workflow Run RO-Crate: a directory, or a zip when ``out`` ends with ``.zip``.

    The script is the crate's main workflow; the run is a CreateAction with the files the
    tasks read as ``object`` and those they wrote as ``result``; each task is a CreateAction
    of its app (a SoftwareApplication) as in the Process Run Crate profile. Files are
    referenced by URI, not copied.
    """
    from rocrate.model.contextentity import ContextEntity
    from rocrate.rocrate import ROCrate

    run = record.run
    crate = ROCrate()
    crate.name = f"plait run {run.run_id}"
    crate.description = f"{run.name or 'unnamed'}: {len(record.tasks)} tasks, {run.outcome}"
    crate.add(ContextEntity(crate, "#python", {"@type": "ComputerLanguage", "name": "Python",
                                               "url": {"@id": "https://www.python.org/"}}))
    kinds = ["File", "SoftwareSourceCode", "ComputationalWorkflow"]
    if run.script and os.path.exists(run.script):
        workflow = crate.add_file(run.script, os.path.basename(run.script), properties={
            "@type": kinds, "name": run.name or os.path.basename(run.script),
            "programmingLanguage": {"@id": "#python"}})
    else:  # the script is gone: describe it without its bytes
        workflow = crate.add(ContextEntity(crate, "#workflow", {
            "@type": kinds[1:], "name": run.name or "unnamed",
            "programmingLanguage": {"@id": "#python"}}))
    crate.mainEntity = workflow
    crate.root_dataset["conformsTo"] = [{"@id": f"https://w3id.org/ro/wfrun/{p}/0.5"}
                                        for p in ("process", "workflow")] + [
        {"@id": "https://w3id.org/workflowhub/workflow-ro-crate/1.0"}]
    person = crate.add(ContextEntity(crate, f"#user-{run.user}", {"@type": "Person",
                                                                  "name": run.user}))
    files: dict[str, Any] = {}

    def file_ref(path: str) -> Any:  # referenced by URI, never copied into the crate
        uri = _file_uri(path)
        if uri not in files:
            files[uri] = crate.add_file(uri, fetch_remote=False, validate_url=False,
                                        properties={"name": path})
        return files[uri]

    apps: dict[str, Any] = {}
    read, wrote = [], []
    for task in record.tasks:
        if task.app not in apps:
            apps[task.app] = crate.add(ContextEntity(crate, f"#app-{task.app}", {
                "@type": "SoftwareApplication", "name": task.app}))
        props: dict[str, Any] = {"name": f"task {task.task_id} ({task.app})",
                                 "actionStatus": _action_status(task.state)}
        if task.launched or task.invoked:
            props["startTime"] = (task.launched or task.invoked).isoformat()  # type: ignore
        if task.returned:
            props["endTime"] = task.returned.isoformat()
        inputs = [file_ref(p) for p in task.inputs]
        outputs = [file_ref(p) for p in task.outputs]
        read += inputs
        wrote += outputs
        crate.add_action(apps[task.app], identifier=f"#task-{task.task_id}", object=inputs,
                         result=outputs, properties=props)
    props = {"name": f"run {run.run_id}", "agent": {"@id": person.id},
             "startTime": run.began.isoformat(), "actionStatus": _action_status(
                 "exec_done" if run.outcome == "completed" else "failed")}
    if run.completed:
        props["endTime"] = run.completed.isoformat()
    crate.add_action(workflow, identifier=f"#run-{run.run_id}",
                     object=_unique(read), result=_unique(wrote), properties=props)
    if out.endswith(".zip"):
        crate.write_zip(out)
    else:
        crate.write(out)


def _unique(entities: list[Any]) -> list[Any]:
    seen: dict[str, Any] = {}
    for e in entities:
        seen.setdefault(e.id, e)
    return list(seen.values())


def _action_status(state: str | None) -> str:
    if state in ("exec_done", "memo_done"):
        return "http://schema.org/CompletedActionStatus"
    if state in ("failed", "dep_fail", "cancelled"):
        return "http://schema.org/FailedActionStatus"
    return "http://schema.org/ActiveActionStatus"


def crate_metadata(out: str) -> dict[str, Any]:
    """The ro-crate-metadata.json of a crate directory (for checks)."""
    with open(os.path.join(out, "ro-crate-metadata.json")) as fh:
        data: dict[str, Any] = json.load(fh)
    return data
