"""ToolRef: how a CWL tool reaches the process that runs its job.

In the submitting process a ToolRef holds the live cwltool ``Process`` (threads executor: no
copy at all). Pickled for another process (the pilot executor's workers), it carries a
*recipe* instead: the tool's resolved document (with its line numbers), its effective
requirements and hints (inherited ones included), its metadata and its format ontology.
The receiving process rebuilds the ``Process`` once per recipe digest and keeps it, so a
scatter of 1,000 jobs builds its tool once per worker. Rebuilding skips JavaScript and
schema validation: the submitting side already did both.
"""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

_BUILT: dict[str, Any] = {}      # recipe digest -> rebuilt Process, per worker process
_BUILD_LOCK = threading.Lock()


class ToolRef:
    """A reference to one CWL CommandLineTool or ExpressionTool, cheap to send to workers.

    Args:
        process: the cwltool ``Process`` (as loaded and validated here).
        name: the name used in logs and errors (the step's name, or the tool's).
    """

    __slots__ = ("_live", "_recipe", "name")

    def __init__(self, process: Any, name: str) -> None:
        self._live: Any = process
        self._recipe: dict[str, Any] | None = None
        self.name = name

    def process(self) -> Any:
        """The cwltool ``Process``: the live one here, the rebuilt one in a worker."""
        if self._live is not None:
            return self._live
        assert self._recipe is not None
        digest = self._recipe["digest"]
        built = _BUILT.get(digest)
        if built is None:
            with _BUILD_LOCK:
                built = _BUILT.get(digest)
                if built is None:
                    built = _BUILT[digest] = _rebuild(self._recipe)
        return built

    def recipe(self) -> dict[str, Any]:
        """What a worker needs to rebuild the process (computed once, then kept)."""
        if self._recipe is None:
            self._recipe = _make_recipe(self._live)
        return self._recipe

    def __getstate__(self) -> dict[str, Any]:
        return {"name": self.name, "recipe": self.recipe()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._live, self._recipe, self.name = None, state["recipe"], state["name"]

    def __repr__(self) -> str:
        return f"<ToolRef {self.name}>"


def _make_recipe(process: Any) -> dict[str, Any]:
    graph = getattr(process, "formatgraph", None)
    formats = graph.serialize(format="nt") if graph is not None and len(graph) else ""
    # ruamel's commented maps pickle with their line numbers, which cwltool's job code reads
    recipe = {"tool": process.tool, "requirements": process.requirements,
              "hints": process.hints, "metadata": process.metadata, "formats": formats}
    text = json.dumps(recipe, sort_keys=True, default=str)
    recipe["digest"] = hashlib.sha256(text.encode()).hexdigest()
    from cwltool import process as cwl_process

    # The File/Directory/Any schemas every Process needs; without them a worker would parse
    # the whole CWL v1.0 schema (~0.4 s of CPU) before its first job.
    recipe["schemas"] = (cwl_process.SCHEMA_FILE, cwl_process.SCHEMA_DIR,
                         cwl_process.SCHEMA_ANY)
    return recipe


def _rebuild(recipe: dict[str, Any]) -> Any:
    from cwltool import process as cwl_process
    from cwltool.context import LoadingContext
    from cwltool.workflow import default_make_tool

    if cwl_process.SCHEMA_FILE is None and all(recipe["schemas"]):
        cwl_process.SCHEMA_FILE, cwl_process.SCHEMA_DIR, cwl_process.SCHEMA_ANY = (
            recipe["schemas"])

    # No document loader and no schema: cwltool then skips hint and JavaScript validation
    # (done where the document was loaded), and a worker does not parse the CWL schema.
    context = LoadingContext({"disable_js_validation": True, "do_validate": False,
                              "metadata": recipe["metadata"]})
    context.construct_tool_object = default_make_tool
    process = default_make_tool(recipe["tool"], context)
    process.requirements = recipe["requirements"]
    process.hints = recipe["hints"]
    if recipe["formats"]:
        from rdflib import Graph

        process.formatgraph = Graph().parse(data=recipe["formats"], format="nt")
    return process
