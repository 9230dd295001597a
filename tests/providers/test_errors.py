"""Provider and launcher errors: messages say what and what to do; they survive pickling."""

from __future__ import annotations

import pickle

import pytest

from plait._errors import PlaitError
from plait.launchers import BadLauncher
from plait.providers import (
    ExecutionProviderException,
    ScaleOutFailed,
    SchedulerMissingArgs,
    ScriptPathError,
    SubmitException,
)

CASES = [
    (ScaleOutFailed("local", "no slots"), ["local", "no slots"]),
    (SchedulerMissingArgs(["walltime", "nodes"], "slurm"), ["walltime, nodes", "slurm"]),
    (ScriptPathError("/x/y.sh", "Permission denied"), ["/x/y.sh", "Permission denied",
                                                       "writable"]),
    (SubmitException("block-0", "sbatch failed", "", "no partition", 1),
     ["block-0", "sbatch failed", "no partition", "exit code 1"]),
    (BadLauncher(object, "not an instance"), ["not an instance", "SingleNodeLauncher()"]),
]


@pytest.mark.parametrize(("exc", "words"), CASES, ids=lambda c: type(c).__name__)
def test_message_and_pickle(exc: Exception, words: list[str]) -> None:
    assert isinstance(exc, PlaitError)
    for word in words:
        assert word in str(exc)
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is type(exc) and str(back) == str(exc)


def test_provider_errors_share_a_base() -> None:
    for exc, _ in CASES[:4]:
        assert isinstance(exc, ExecutionProviderException)
    assert SubmitException("j", "m").task_name == "j"
