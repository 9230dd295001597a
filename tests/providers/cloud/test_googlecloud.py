"""GoogleCloudProvider against stand-ins of Google's token endpoint and Compute Engine API.

Stand-in: gce_api.ComputeEngineAPI, a local HTTP server answering the OAuth 2.0 JWT-bearer
exchange (it checks the assertion's RS256 signature) and the Compute Engine v1 instances,
regions and zone operations endpoints with replies shaped as the REST reference documents.
Google offers no local Compute Engine emulator. google-auth signs and exchanges the service
account key itself and googleapiclient builds every request from its bundled discovery
document and parses every reply; the instance bodies it sent are checked field by field.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from factories import providers_made_by
from gce_api import ComputeEngineAPI

from plait._errors import ConfigurationError, OptionalModuleMissing
from plait.providers import JobState, SubmitException
from plait.providers.googlecloud.googlecloud import GoogleCloudProvider

PROJECT = "climate-sim"


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def api(key: rsa.RSAPrivateKey) -> Iterator[ComputeEngineAPI]:
    server = ComputeEngineAPI(PROJECT, key.public_key())
    server.start()
    yield server
    server.stop()


def key_file(path: Path, private: rsa.RSAPrivateKey, token_uri: str) -> str:
    """A service account key in the format the IAM console downloads."""
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    path.write_text(json.dumps({
        "type": "service_account", "project_id": PROJECT, "private_key_id": "k1",
        "private_key": pem, "client_email": f"plait@{PROJECT}.iam.gserviceaccount.com",
        "client_id": "1", "token_uri": token_uri}))
    return str(path)


@pytest.fixture
def make(api: ComputeEngineAPI, key: rsa.RSAPrivateKey, tmp_path: Path) -> Any:
    keys = key_file(tmp_path / "key.json", key, f"{api.url}/token")

    def build(**kwargs: Any) -> GoogleCloudProvider:
        kwargs.setdefault("key_file", keys)
        kwargs.setdefault("region", "us-central1")
        return GoogleCloudProvider(PROJECT, os_project="debian-cloud", os_family="debian-12",
                                   api_endpoint=api.api_endpoint, **kwargs)

    yield from providers_made_by(build, tmp_path / "submit_scripts", lambda prov: [
        i for i in api.instances.values() if i["labels"].get("plait-run") == prov.run_id])


def test_submit_creates_the_instance_with_startup_script_and_labels(
        make: Any, api: ComputeEngineAPI) -> None:
    """stand-in: Compute Engine API stand-in. The inserted Instance is checked field by
    field; the zone comes from the region's reply (its first zone)."""
    prov = make(instance_type="e2-standard-4", worker_init="pip install plait",
                walltime="01:00:00", preemptible=True, disk_size_gb=50,
                labels={"team": "climate"}, subnetwork="regions/us-central1/subnetworks/s1")
    name = prov.submit("process_worker_pool.py -a 1.2.3.4", 1, "plait.htex.block-0")

    [token] = api.sent("POST", "^/token$")
    assert "jwt-bearer" in token.raw.decode()
    [sent] = api.sent("POST", "/zones/us-central1-a/instances$")
    assert sent.headers["authorization"].startswith("Bearer ya29.")
    body = sent.body
    assert body["name"] == name and name.startswith("plait-htex-block-0-")
    assert body["machineType"] == "zones/us-central1-a/machineTypes/e2-standard-4"
    assert body["labels"] == {"team": "climate", "plait-run": prov.run_id,
                              "plait-provider": "google-cloud", "plait-job": name}
    assert body["disks"] == [{"boot": True, "autoDelete": True, "initializeParams": {
        "sourceImage": "projects/debian-cloud/global/images/family/debian-12",
        "diskSizeGb": "50"}}]
    assert body["networkInterfaces"] == [{
        "network": "global/networks/default",
        "subnetwork": "regions/us-central1/subnetworks/s1",
        "accessConfigs": [{"type": "ONE_TO_ONE_NAT", "name": "External NAT"}]}]
    assert body["scheduling"] == {"provisioningModel": "SPOT",
                                  "instanceTerminationAction": "DELETE",
                                  "maxRunDuration": {"seconds": "3900"}}
    [item] = body["metadata"]["items"]
    assert item["key"] == "startup-script"
    assert item["value"] == prov.job_script("process_worker_pool.py -a 1.2.3.4", 1, name)
    assert "pip install plait" in item["value"] and "timeout -k 30 -s TERM 3600" in item["value"]
    assert prov.status([name])[0].state is JobState.PENDING


def test_the_stand_in_applies_googles_instance_schema() -> None:
    """stand-in: the compute v1 discovery document's Instance schema, as the stand-in
    applies it to every insert (so the field-by-field tests above also pass Google's)."""
    from gce_api import schema_errors

    ok = {"name": "x", "labels": {"a": "b"}, "scheduling": {"maxRunDuration": {
        "seconds": "60"}}, "disks": [{"boot": True}]}
    assert schema_errors(ok, {"$ref": "Instance"}, "resource") == []
    assert "Unknown name \"lables\"" in schema_errors(
        {"lables": {}}, {"$ref": "Instance"}, "resource")[0]
    assert "resource.disks[0].boot" in schema_errors(
        {"disks": [{"boot": "yes"}]}, {"$ref": "Instance"}, "resource")[0]
    assert "(enum)" in schema_errors({"networkInterfaces": [{"accessConfigs": [
        {"type": "NAT"}]}]}, {"$ref": "Instance"}, "resource")[0]


def test_a_zone_given_as_region_is_used_directly(make: Any, api: ComputeEngineAPI) -> None:
    """stand-in: Compute Engine API stand-in."""
    prov = make(region="us-central1-c")
    prov.submit("w", 1, "b")
    assert not api.sent("GET", "/regions/")
    assert api.sent("POST", "/zones/us-central1-c/instances$")
    body = api.sent("POST", "/instances$")[0].body
    assert "scheduling" not in body  # no walltime, not preemptible


def test_status_maps_states_and_powered_off_instances_are_deleted(
        make: Any, api: ComputeEngineAPI) -> None:
    """stand-in: Compute Engine API stand-in; statuses from the Instance reference."""
    prov = make()
    table = {"PENDING": JobState.PENDING, "PROVISIONING": JobState.PENDING,
             "STAGING": JobState.PENDING, "RUNNING": JobState.RUNNING,
             "REPAIRING": JobState.HELD, "SUSPENDING": JobState.HELD,
             "SUSPENDED": JobState.HELD, "TERMINATED": JobState.COMPLETED,
             "HIBERNATING": JobState.UNKNOWN}
    names = [prov.submit("w", 1, f"b{i}") for i in range(len(table))]
    for name, status in zip(names, table, strict=True):
        api.set_status(name, status)
    got = prov.status(names)
    assert [s.state for s in got] == list(table.values())
    assert len(api.sent("GET", "/zones/us-central1-a/instances$")) == 1  # one call for all
    off = names[7]
    assert api.sent("DELETE", f"/instances/{off}$")  # a stopped VM still costs
    assert prov.status([off])[0].state is JobState.COMPLETED
    assert off not in api.instances and off not in prov.live_jobs()
    for status in ("STOPPING", "PENDING_STOP", "STOPPED", "DEPROVISIONING"):
        ended = prov._observed({"name": "x", "status": status})
        assert ended.status.terminal, status


def test_cancel_and_cleanup_leave_nothing(make: Any, api: ComputeEngineAPI) -> None:
    """stand-in: Compute Engine API stand-in. An instance labelled with the run but never
    returned to plait is found by label and deleted."""
    prov = make()
    first, second = prov.submit("w", 1, "b0"), prov.submit("w", 1, "b1")
    assert prov.cancel([first]) == [True]
    assert prov.status([first])[0].state is JobState.CANCELLED
    api.instances["orphan"] = {**api.instances[second], "name": "orphan"}
    assert prov.cleanup(timeout=5) == []
    assert api.sent("DELETE", "/instances/orphan$") and not api.instances
    assert prov.cancel(["nope"]) == [False]


def test_errors_name_the_cause_and_the_fix(make: Any, api: ComputeEngineAPI) -> None:
    """stand-in: Compute Engine API stand-in answering with documented error bodies."""
    cases: list[tuple[dict[str, Any], list[str], str]] = [
        ({"instance_type": "n9-huge"}, ["machineTypes/n9-huge", "machine-types list"], "flavor"),
        ({"region": "mars-north1"}, ["regions/mars-north1", "regions list"], "region"),
        ({"zone": "us-central1-z"}, ["zones/us-central1-z", "zones list"], "region"),
    ]
    for kwargs, words, kind in cases:
        with pytest.raises(SubmitException) as info:
            make(**kwargs).submit("w", 1, "b")
        for word in words:
            assert word in str(info.value), kwargs
        assert info.value.__cause__.kind == kind  # type: ignore[union-attr]

    bad_image = make()
    bad_image.os_family = "windows-3"
    with pytest.raises(SubmitException, match="os_family") as info:
        bad_image.submit("w", 1, "b")
    assert info.value.__cause__.kind == "image"  # type: ignore[union-attr]

    api.max_instances = 0
    with pytest.raises(SubmitException, match=r"Quota 'INSTANCES' exceeded.*lower max_blocks"):
        make().submit("w", 1, "b")


def test_an_operation_that_fails_later_fails_the_block(make: Any, api: ComputeEngineAPI) -> None:
    """stand-in: Compute Engine API stand-in whose insert operation ends with
    ZONE_RESOURCE_POOL_EXHAUSTED (the error arrives in the Operation, not the reply)."""
    api.async_failure = "ZONE_RESOURCE_POOL_EXHAUSTED"
    with pytest.raises(SubmitException, match=r"ZONE_RESOURCE_POOL_EXHAUSTED.*another zone="):
        make().submit("w", 1, "b")


def test_an_insert_retried_after_a_lost_reply_is_not_an_error(
        make: Any, api: ComputeEngineAPI) -> None:
    """stand-in: Compute Engine API stand-in that creates the instance but answers the
    first insert with a 503; googleapiclient retries, and the API answers alreadyExists."""
    real_insert = api.insert
    calls: list[int] = []

    def flaky_insert(req: Any, project: str, zone: str) -> Any:
        reply = real_insert(req, project, zone)
        calls.append(reply.status)
        if len(calls) == 1:
            from standin import Reply

            return Reply(503, {"error": {"code": 503, "message": "Backend Error",
                                         "errors": [{"reason": "backendError"}]}})
        return reply

    api.routes = [(m, rx, flaky_insert if h == api.insert else h) for m, rx, h in api.routes]
    prov = make()
    name = prov.submit("w", 1, "b")
    assert calls == [200, 409] and name in api.instances
    assert prov.status([name])[0].state is JobState.PENDING


def test_an_unreachable_api_is_named(make: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """stand-in: a closed port on 127.0.0.1 as the API endpoint (retries off, or the test
    would wait for their backoff)."""
    import plait.providers.googlecloud._provider as gce

    monkeypatch.setattr(gce, "_RETRIES", 0)
    prov = make(zone="us-central1-a")
    prov.api_endpoint = "http://127.0.0.1:9/compute/v1/"
    with pytest.raises(SubmitException) as info:
        prov.submit("w", 1, "b")
    assert info.value.__cause__.kind == "unreachable"  # type: ignore[union-attr]


def test_a_refused_key_says_to_make_a_new_one(make: Any, tmp_path: Path,
                                              api: ComputeEngineAPI) -> None:
    """stand-in: the token endpoint stand-in checks the JWT's signature: a key the service
    account does not have is refused with invalid_grant."""
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    wrong = key_file(tmp_path / "wrong.json", other, f"{api.url}/token")
    with pytest.raises(SubmitException, match=r"invalid_grant.*create a new key") as info:
        make(key_file=wrong).submit("w", 1, "b")
    assert info.value.__cause__.kind == "credentials"  # type: ignore[union-attr]


def test_configuration_is_checked_offline(tmp_path: Path) -> None:
    """stand-in: none needed: these fail before any API call."""
    with pytest.raises(ConfigurationError, match="key_file"):
        GoogleCloudProvider("p", str(tmp_path / "missing.json"), "us-central1", "o", "f")
    with pytest.raises(ConfigurationError, match="google_version"):
        GoogleCloudProvider("p", None, "r", "o", "f", google_version="v2")


def test_without_the_extra_construction_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """stand-in: googleapiclient made unimportable in this process."""
    monkeypatch.setitem(sys.modules, "googleapiclient.discovery", None)
    with pytest.raises(OptionalModuleMissing, match=r"plait\[googlecloud\]"):
        GoogleCloudProvider("p", None, "r", "o", "f")
