"""CWL tests run cwltool in the test process, some without a kernel (whose cleanup would stop
the Node.js processes expressions start): each test stops them itself, as a kernel would."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _node_processes_end_with_the_test() -> Iterator[None]:
    from plait.cwl._javascript import stop_javascript, use_tracked_engine

    use_tracked_engine()
    yield
    stop_javascript()
