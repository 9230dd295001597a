"""CWL on plait: run CWL workflows, and call CWL tool descriptions as apps.

    wc = plait.cwl.load_tool("wc.cwl")
    fut = wc(infile=File("a.txt"))      # AppFuture of the CWL output object
    wc.files(fut)["report"]             # DataFuture of an output File, for Python apps
    plait.cwl.load_workflow("wf.cwl")   # the same for a workflow: each step is a task
    plait cwl run wf.cwl job.yml        # the cwl-runner command line

Needs the ``cwl`` extra (cwltool, cwl-utils, schema-salad). They load on first use: neither
``import plait`` nor ``import plait.cwl`` imports them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from plait.cwl._errors import CWLError as CWLError
from plait.cwl._errors import CWLInputError as CWLInputError
from plait.cwl._errors import CWLStepFailed as CWLStepFailed
from plait.cwl._errors import CWLUnsupportedRequirement as CWLUnsupportedRequirement
from plait.cwl._errors import CWLValidationError as CWLValidationError

if TYPE_CHECKING:
    from plait.cwl._apps import CWLApp as CWLApp
    from plait.cwl._apps import load_tool as load_tool
    from plait.cwl._apps import load_workflow as load_workflow

__all__ = ["CWLApp", "CWLError", "CWLInputError", "CWLStepFailed",
           "CWLUnsupportedRequirement", "CWLValidationError", "load_tool", "load_workflow"]

_LAZY = frozenset({"CWLApp", "load_tool", "load_workflow"})


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module 'plait.cwl' has no attribute {name!r}")
    from plait.cwl import _apps

    value = getattr(_apps, name)
    globals()[name] = value
    return value
