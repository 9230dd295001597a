"""GlobusStaging through globus-sdk, against a LOCAL STAND-IN of the Transfer API
(tests/globus_standin.py): the real Globus service cannot be reached from here."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

import plait
from globus_standin import TransferStandIn
from plait import Config, File, ThreadPoolExecutor, python_app
from plait.data_provider.globus import GlobusStaging
from plait.errors import StagingError


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[TransferStandIn]:
    endpoints = {"ep-archive": tmp_path / "archive", "ep-cluster": tmp_path / "cluster"}
    for root in endpoints.values():
        root.mkdir()
    with TransferStandIn(endpoints, token="test-token") as api:
        yield api


def provider(api: TransferStandIn, **options: object) -> GlobusStaging:
    cluster = api.endpoints["ep-cluster"]
    return GlobusStaging("ep-cluster", endpoint_path="/", local_path=str(cluster),
                         transfer_token="test-token", base_url=api.url, backoff=0.01,
                         **options)  # type: ignore[arg-type]


@python_app
def upper(inputs: list[File] = (), outputs: list[File] = ()) -> None:  # type: ignore[assignment]
    with open(inputs[0]) as src, open(outputs[0], "w") as dst:
        dst.write(src.read().upper())


def test_in_and_out_between_endpoints(standin: TransferStandIn, tmp_path: Path,
                                      caplog: pytest.LogCaptureFixture) -> None:
    (standin.endpoints["ep-archive"] / "data").mkdir()
    (standin.endpoints["ep-archive"] / "data" / "in.txt").write_text("globus data")
    standin.delay = 0.2  # the transfers stay ACTIVE for a while: the wait must follow them
    caplog.set_level(logging.INFO, "plait.data")
    plait.clear()
    work = standin.endpoints["ep-cluster"] / "work"
    ex = ThreadPoolExecutor(storage_access=[provider(standin)], working_dir=str(work))
    with plait.load(Config(executors=[ex], run_dir=str(tmp_path / "run"), strategy="none")):
        out = upper(inputs=[File("globus://ep-archive/data/in.txt")],
                    outputs=[File("globus://ep-archive/results/out.txt")])
        out.outputs[0].result(timeout=60)
    assert (work / "in.txt").read_text() == "globus data"
    assert (standin.endpoints["ep-archive"] / "results" / "out.txt").read_text() == \
        "GLOBUS DATA"
    assert not list(tmp_path.rglob(".*.part-*"))  # renamed into place on the endpoint
    assert caplog.text.count("point-to-point (Globus)") == 2


def fetch(api: TransferStandIn, url: str, tmp_path: Path, **options: object) -> None:
    f = File(url)
    f.local_path = str(api.endpoints["ep-cluster"] / "x")
    provider(api, **options).fetch_here(f)


def test_missing_source_fails_at_once_and_cancels_the_task(standin: TransferStandIn,
                                                           tmp_path: Path) -> None:
    with pytest.raises(StagingError, match="FILE_NOT_FOUND") as info:
        fetch(standin, "globus://ep-archive/nope.txt", tmp_path, attempts=3)
    assert info.value.attempts == 1
    assert [t["nice_status"] for t in standin.tasks.values()] == ["CANCELED"]


def test_unknown_endpoint_and_bad_token_are_clear(standin: TransferStandIn,
                                                  tmp_path: Path) -> None:
    with pytest.raises(StagingError, match="404 EndpointNotFound"):
        fetch(standin, "globus://ep-nowhere/x", tmp_path)
    standin.token = "another"
    with pytest.raises(StagingError, match="401 AuthenticationFailed"):
        fetch(standin, "globus://ep-archive/x", tmp_path)


def test_no_credentials_says_how_to_give_them(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLAIT_GLOBUS_TRANSFER_TOKEN", raising=False)
    f = File("globus://ep/x")
    f.local_path = str(tmp_path / "x")
    with pytest.raises(StagingError, match="PLAIT_GLOBUS_TRANSFER_TOKEN"):
        GlobusStaging("ep-cluster").fetch_here(f)
