"""Errors of the CWL layer: bad documents, bad inputs, failed steps, unsupported features.

::

    PlaitError
    └── CWLError                        a CWL document could not be loaded or run
        ├── CWLValidationError          the document is invalid (file:line:col messages)
        ├── CWLInputError               the input object is missing or mistypes an input
        ├── CWLUnsupportedRequirement   a requirement this machine cannot meet (exit 33)
        └── CWLStepFailed               a tool's command failed (step, command, exit code)

Every class passes its positional arguments to ``Exception.__init__``, so it pickles across
the pilot executor's process boundary.
"""

from __future__ import annotations

from collections.abc import Sequence

from plait._errors import PlaitError


class CWLError(PlaitError):
    """A CWL document could not be loaded or run; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class CWLValidationError(CWLError):
    """A CWL document failed validation; the message has the validator's file:line:col."""

    def __init__(self, document: str, detail: str) -> None:
        super().__init__(detail)
        self.args = (document, detail)
        self.document, self.detail = document, detail

    def __str__(self) -> str:
        return (f"{self.document} is not valid CWL:\n{self.detail}\n"
                "Fix the lines named above (cwltool --validate shows the same report).")


class CWLInputError(CWLError):
    """The input object lacks a required input, or gives one a value of the wrong type."""

    def __init__(self, process: str, name: str, type_: str, problem: str) -> None:
        super().__init__(problem)
        self.args = (process, name, type_, problem)
        self.process, self.name, self.type, self.problem = process, name, type_, problem

    def __str__(self) -> str:
        return (f"{self.process}: input {self.name!r} (type {self.type}) {self.problem}; "
                "give it in the job file or as a keyword argument")


class CWLUnsupportedRequirement(CWLError):
    """A process needs something this plait installation cannot provide (cwl-runner exit 33)."""

    def __init__(self, process: str, requirement: str, why: str) -> None:
        super().__init__(why)
        self.args = (process, requirement, why)
        self.process, self.requirement, self.why = process, requirement, why

    def __str__(self) -> str:
        return f"{self.process} needs {self.requirement}: {self.why}"


class CWLStepFailed(CWLError):
    """A tool's command exited with a failure code, or its outputs could not be collected.

    Args:
        step: the step (or tool) name.
        command: the command line, as a list of words (empty if none was built).
        exitcode: the command's exit code (None if it did not run to an exit).
        stdout: the path of its standard output, if captured in a file.
        stderr: the path of its standard error, if captured in a file.
        reason: what went wrong, in words.
        stderr_tail: the last lines of its standard error, if any.
    """

    def __init__(self, step: str, command: Sequence[str], exitcode: int | None,
                 stdout: str | None, stderr: str | None, reason: str,
                 stderr_tail: str = "") -> None:
        super().__init__(reason)
        self.args = (step, list(command), exitcode, stdout, stderr, reason, stderr_tail)
        self.step, self.command, self.exitcode = step, list(command), exitcode
        self.stdout, self.stderr, self.reason = stdout, stderr, reason
        self.stderr_tail = stderr_tail

    def __str__(self) -> str:
        import shlex  # here: keeps importing the error tree cheap

        text = f"step {self.step} failed: {self.reason}"
        if self.command:
            text += f"\n  command: {shlex.join(self.command)}"
        if self.exitcode is not None:
            text += f"\n  exit code: {self.exitcode}"
        for name, path in (("stdout", self.stdout), ("stderr", self.stderr)):
            if path:
                text += f"\n  {name}: {path}"
        if self.stderr_tail:
            text += "\n  last lines of stderr:\n    " + "\n    ".join(
                self.stderr_tail.splitlines())
        return text
