"""Step 4 (10 min): failures. `fragile` fails on its first try for every input. Configure
retries so every call succeeds; then see what a permanent failure does to the tasks that
depend on it, and catch the error that names it."""

import os

import plait
from plait import Config, python_app
from plait.errors import DependencyError


@python_app
def fragile(x):
    marker = f"tried-{x}"
    if not os.path.exists(marker):
        open(marker, "w").close()
        raise RuntimeError(f"first try of {x} fails")
    return x


@python_app
def broken():
    raise ValueError("this input is corrupt")


@python_app
def double(x):
    return 2 * x


# BEGIN SOLUTION
config = Config(retries=1)
# END SOLUTION
with plait.load(config):
    assert [fragile(i).result() for i in range(4)] == [0, 1, 2, 3]
    downstream = double(broken())
    # BEGIN SOLUTION
    try:
        downstream.result()
    except DependencyError as err:
        cause = err.__cause__
    # END SOLUTION

assert isinstance(cause, ValueError), cause
print(f"step 4 OK: retried 4 tasks; the dependent failed with root cause {cause!r}")
