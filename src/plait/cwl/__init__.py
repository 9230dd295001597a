"""CWL on plait: run CWL workflows, and call CWL tool descriptions as apps.

    load_tool("tool.cwl")(x=1, infile=File(...))  -> AppFuture of the CWL output object
    load_workflow("wf.cwl")(...)                  -> the same, each step its own task
    plait cwl run wf.cwl job.yml                  -> the cwl-runner interface

Needs the ``cwl`` extra (cwltool, cwl-utils, schema-salad); they load on first use, never
on ``import plait``.
"""

from __future__ import annotations

from plait.cwl._apps import CWLApp as CWLApp
from plait.cwl._apps import load_tool as load_tool
from plait.cwl._apps import load_workflow as load_workflow
from plait.cwl._errors import CWLError as CWLError
from plait.cwl._errors import CWLInputError as CWLInputError
from plait.cwl._errors import CWLStepFailed as CWLStepFailed
from plait.cwl._errors import CWLUnsupportedRequirement as CWLUnsupportedRequirement
from plait.cwl._errors import CWLValidationError as CWLValidationError

__all__ = ["CWLApp", "CWLError", "CWLInputError", "CWLStepFailed",
           "CWLUnsupportedRequirement", "CWLValidationError", "load_tool", "load_workflow"]
