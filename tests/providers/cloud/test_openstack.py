"""OpenStackProvider against a stand-in of an OpenStack cloud's APIs.

Stand-in: openstack_api.OpenStackAPI, a local HTTP server answering Keystone v3 (version
discovery, password token with service catalog), Nova v2.1 (version document, flavors,
servers), Glance v2 (images) and Neutron v2.0 (networks) with replies and error bodies
shaped as the OpenStack API references document them (why not a real Nova: see
openstack_api.py). openstacksdk reads a real clouds.yaml, authenticates, discovers versions
and microversions, resolves names and parses replies itself; the server it asked for is
checked field by field.
"""

from __future__ import annotations

import base64
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from factories import providers_made_by
from openstack_api import OpenStackAPI

from plait._errors import ConfigurationError, OptionalModuleMissing
from plait.providers import JobState, SubmitException
from plait.providers.openstack.openstack import OpenStackProvider

# openstacksdk warns about its own internals (RemovedInSDK50/60Warning) on every call
pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")


@pytest.fixture
def api() -> Iterator[OpenStackAPI]:
    server = OpenStackAPI("alice", "s3cret", "science")
    server.start()
    yield server
    server.stop()


def clouds_yaml(path: Path, auth_url: str, password: str) -> str:
    path.write_text(f"""clouds:
  standin:
    auth:
      auth_url: {auth_url}
      username: alice
      password: {password}
      project_name: science
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: public
    identity_api_version: 3
""")
    return str(path)


@pytest.fixture
def make(api: OpenStackAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE",
                       clouds_yaml(tmp_path / "clouds.yaml", api.auth_url, "s3cret"))

    def build(**kwargs: Any) -> OpenStackProvider:
        kwargs.setdefault("image", "Featured-Ubuntu24")
        kwargs.setdefault("flavor", "m3.small")
        return OpenStackProvider(cloud="standin", **kwargs)

    yield from providers_made_by(build, tmp_path / "submit_scripts", lambda prov: [
        s for s in api.servers.values() if s["metadata"].get("plait-run") == prov.run_id])


def test_submit_creates_the_server_with_user_data_and_metadata(
        make: Any, api: OpenStackAPI) -> None:
    """stand-in: OpenStack API stand-in. The POSTed server is checked field by field; the
    image, flavor and network names were resolved to ids through Glance, Nova and Neutron."""
    prov = make(flavor="m3.quad", network="auto_allocated_network", key_name="laptop",
                security_groups=["workers"], availability_zone="nova", walltime="04:00:00",
                worker_init="module load python", metadata={"allocation": "TG-123"})
    sid = prov.submit("process_worker_pool.py -a 1.2.3.4", 1, "plait.htex.block-0")

    [sent] = api.sent("POST", "/compute/v2.1/servers$")
    assert sent.headers["x-auth-token"] in api.tokens
    body = sent.body["server"]
    name = body["name"]
    assert name.startswith("plait-htex-block-0-") and sid in api.servers
    [image_id] = api.images
    flavor_id = next(f for f, n in api.flavors.items() if n == "m3.quad")
    [net_id] = api.networks
    assert body["imageRef"] == image_id and body["flavorRef"] == flavor_id
    assert body["networks"] == [{"uuid": net_id}]
    assert body["key_name"] == "laptop" and body["availability_zone"] == "nova"
    assert body["security_groups"] == [{"name": "workers"}]
    assert body["metadata"] == {"allocation": "TG-123", "plait-run": prov.run_id,
                                "plait-provider": "openstack", "plait-job": name}
    script = base64.b64decode(body["user_data"]).decode()
    assert script == prov.job_script("process_worker_pool.py -a 1.2.3.4", 1, name)
    assert "module load python" in script and "timeout -k 30 -s TERM 14400" in script
    assert prov.status([sid])[0].state is JobState.PENDING


def test_without_a_network_nova_chooses(make: Any, api: OpenStackAPI) -> None:
    """stand-in: OpenStack API stand-in."""
    make().submit("w", 1, "b")
    body = api.sent("POST", "/servers$")[0].body["server"]
    assert body["networks"] == "auto"
    assert not api.sent("GET", "/network/")
    assert "key_name" not in body and "security_groups" not in body


def test_status_maps_server_states(make: Any, api: OpenStackAPI) -> None:
    """stand-in: OpenStack API stand-in; statuses and fault from the Compute API reference."""
    prov = make()
    sids = [prov.submit("w", 1, f"b{i}") for i in range(6)]
    api.set_status(sids[0], "ACTIVE")
    api.set_status(sids[1], "HARD_REBOOT")
    api.set_status(sids[2], "SHELVED_OFFLOADED")
    api.set_status(sids[3], "ERROR", fault={"code": 500, "message": "No valid host was "
                                            "found. There are not enough hosts available."})
    api.set_status(sids[4], "SHUTOFF")
    api.set_status(sids[5], "LEVITATING")
    got = prov.status(sids)
    assert [s.state for s in got] == [JobState.RUNNING, JobState.RUNNING, JobState.HELD,
                                      JobState.FAILED, JobState.COMPLETED, JobState.UNKNOWN]
    documented = {"BUILD": JobState.PENDING, "REBOOT": JobState.RUNNING,
                  "MIGRATING": JobState.RUNNING, "RESIZE": JobState.RUNNING,
                  "VERIFY_RESIZE": JobState.RUNNING, "REVERT_RESIZE": JobState.RUNNING,
                  "PASSWORD": JobState.RUNNING, "REBUILD": JobState.RUNNING,
                  "RESCUE": JobState.RUNNING, "PAUSED": JobState.HELD,
                  "SUSPENDED": JobState.HELD, "SHELVED": JobState.HELD,
                  "UNKNOWN": JobState.UNKNOWN, "DELETED": JobState.CANCELLED,
                  "SOFT_DELETED": JobState.CANCELLED}
    for status, state in documented.items():
        server = type("Server", (), {"status": status, "id": "i", "name": "n",
                                     "fault": None})()
        assert prov._observed(server).status.state is state, status
    assert "No valid host" in str(got[3].message) and "smaller flavor" in str(got[3].message)
    assert sids[3] not in api.servers and sids[4] not in api.servers  # ended servers deleted
    assert len(api.sent("GET", "/servers/detail$")) == 1


def test_cancel_and_cleanup_leave_nothing(make: Any, api: OpenStackAPI) -> None:
    """stand-in: OpenStack API stand-in. A server with the run's name and metadata that
    plait never heard back about is found and deleted."""
    prov = make()
    first, second = prov.submit("w", 1, "b0"), prov.submit("w", 1, "b1")
    assert prov.cancel([first]) == [True]
    assert first not in api.servers
    assert prov.status([first])[0].state is JobState.CANCELLED
    orphan = dict(api.servers[second], id="orphan-id", name=f"x-{prov.run_id[:8]}-99")
    api.servers["orphan-id"] = orphan
    assert prov.cleanup(timeout=5) == []
    assert not api.servers
    assert prov.cancel(["nope"]) == [False]


@pytest.mark.parametrize(("kwargs", "words", "kind"), [
    ({"image": "Windows-95"}, ["no image is named 'Windows-95'", "openstack image list"],
     "image"),
    ({"flavor": "m3.enormous"}, ["no flavor is named 'm3.enormous'", "openstack flavor list"],
     "flavor"),
    ({"network": "elsewhere"}, ["no network is named 'elsewhere'", "openstack network list"],
     "network"),
    ({"quota": 0}, ["Quota exceeded for instances", "lower max_blocks"], "quota"),
    ({"password": "wrong"}, ["401", "clouds.yaml"], "credentials"),
])
def test_refused_submissions_name_the_cause_and_the_fix(
        make: Any, api: OpenStackAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        kwargs: dict[str, Any], words: list[str], kind: str) -> None:
    """stand-in: OpenStack API stand-in answering with documented error bodies."""
    if "quota" in kwargs:
        api.max_instances = kwargs.pop("quota")
    if "password" in kwargs:
        monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", clouds_yaml(
            tmp_path / "bad.yaml", api.auth_url, kwargs.pop("password")))
    with pytest.raises(SubmitException) as info:
        make(**kwargs).submit("w", 1, "b")
    for word in words:
        assert word in str(info.value)
    assert info.value.__cause__.kind == kind  # type: ignore[union-attr]


def test_an_unreachable_cloud_is_named(make: Any, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """stand-in: a closed port on 127.0.0.1 as the auth_url."""
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", clouds_yaml(
        tmp_path / "down.yaml", "http://127.0.0.1:9/identity", "s3cret"))
    with pytest.raises(SubmitException) as info:
        make().submit("w", 1, "b")
    assert info.value.__cause__.kind == "unreachable"  # type: ignore[union-attr]
    assert "127.0.0.1:9" in str(info.value) and "the endpoint" in str(info.value)


def test_an_unknown_cloud_name_says_where_to_define_it(make: Any) -> None:
    """stand-in: openstacksdk's own configuration loader, with no such cloud defined."""
    prov = make()
    prov.cloud = "jetstream9"
    with pytest.raises(SubmitException, match=r"clouds\.yaml") as info:
        prov.submit("w", 1, "b")
    assert info.value.__cause__.kind == "credentials"  # type: ignore[union-attr]


def test_configuration_is_checked_offline() -> None:
    """stand-in: none needed: these fail before any API call."""
    with pytest.raises(ConfigurationError, match="flavor"):
        OpenStackProvider("img", "")
    with pytest.raises(ConfigurationError, match="walltime"):
        OpenStackProvider("img", "m3.small", walltime="1h")


def test_without_the_extra_construction_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """stand-in: openstacksdk made unimportable in this process."""
    monkeypatch.setitem(sys.modules, "openstack", None)
    with pytest.raises(OptionalModuleMissing, match=r"plait\[openstack\]"):
        OpenStackProvider("img", "m3.small")
