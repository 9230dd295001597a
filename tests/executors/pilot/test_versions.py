"""A manager running another protocol, Python or plait version is refused, with one table."""

from __future__ import annotations

import pytest
import zmq
from pilot_tasks import add

from conftest import local_provider
from plait.executors._errors import VersionMismatch
from plait.executors.pilot import _protocol as P


@pytest.mark.timeout(60)
def test_mismatched_manager_is_refused_and_tasks_fail(make_htex):
    ex, _ = make_htex(provider=local_provider(init_blocks=0), encrypted=False)
    fut = ex.submit(add, {}, 1, 2)
    ctx = zmq.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.IDENTITY, b"oldmanager")
    sock.connect(f"tcp://127.0.0.1:{ex.worker_port}")
    try:
        reg = {"versions": {**P.local_versions(), "python": "2.7", "protocol": "0"},
               "hostname": "oldnode", "block_id": "0", "workers": 1, "prefetch_capacity": 0,
               "cores_per_worker": 1.0, "mem_per_worker": 0, "cores_total": 1,
               "mem_total": 1000}
        sock.send_multipart([P.REGISTER, P.dumps(reg)])
        assert sock.poll(10_000), "the interchange did not answer the registration"
        kind, table = sock.recv_multipart()
        assert kind == P.REFUSE
        with pytest.raises(VersionMismatch) as info:
            fut.result(timeout=10)
    finally:
        sock.close(0)
        ctx.term()
    text = str(info.value)
    assert text.count("component") == 1 and "oldnode" in text
    assert "2.7" in text and "(differs: protocol, python)" in text
    assert P.loads(table) in text
    assert ex.bad_state_is_set
