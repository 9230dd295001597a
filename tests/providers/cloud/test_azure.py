"""AzureProvider against stand-ins of Entra ID and Azure Resource Manager.

Stand-in: azure_api.AzureAPI, a local HTTPS server (the SDKs send tokens over TLS only)
answering the tenant's OpenID configuration and client-credentials token exchange, and the
Resource Manager endpoints for resource groups, virtual networks, virtual machines and
their instance views, with replies and error bodies shaped as the Azure REST references
document them. Azure offers no local emulator for these. azure-identity (MSAL) and the
azure-mgmt clients build, authenticate and send every request and parse every reply
themselves; the VM body they sent is checked field by field.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure_api import AzureAPI
from factories import providers_made_by
from standin import self_signed_tls

from plait._errors import ConfigurationError, OptionalModuleMissing
from plait.providers import JobState, SubmitException
from plait.providers.azure.azure import AzureProvider

KEYS = {"AZURE_CLIENT_ID": "0f1e-client", "AZURE_CLIENT_SECRET": "s3cret~value",
        "AZURE_TENANT_ID": "72f9-tenant", "AZURE_SUBSCRIPTION_ID": "9a8b-subscription"}
REF = {"publisher": "Canonical", "offer": "ubuntu-24_04-lts", "sku": "server",
       "version": "latest", "vm_size": "Standard_D2s_v3", "disk_size_gb": 64,
       "admin_username": "plait", "password": "Not-a-real-pw-42"}


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AzureAPI]:
    tls, ca = self_signed_tls(str(tmp_path))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca)  # trust the stand-in, as for a proxy's CA
    server = AzureAPI(tls, KEYS["AZURE_TENANT_ID"], KEYS["AZURE_CLIENT_ID"],
                      KEYS["AZURE_CLIENT_SECRET"], KEYS["AZURE_SUBSCRIPTION_ID"])
    server.start()
    yield server
    server.stop()


@pytest.fixture
def make(api: AzureAPI, tmp_path: Path) -> Any:
    keys = tmp_path / "azure-keys.json"
    keys.write_text(json.dumps(KEYS))

    def build(ref: dict[str, Any] | None = None, **kwargs: Any) -> AzureProvider:
        kwargs.setdefault("key_file", str(keys))
        return AzureProvider(dict(ref or REF), arm_endpoint=api.url, authority=api.url,
                             **kwargs)

    yield from providers_made_by(build, tmp_path / "submit_scripts", lambda prov: [
        vm for vm in api.vms.values() if vm["tags"].get("plait-run") == prov.run_id])


def test_submit_creates_the_vm_with_custom_data_tags_and_owned_nic(
        make: Any, api: AzureAPI) -> None:
    """stand-in: Entra ID + Resource Manager stand-in. The PUT VM body is checked field by
    field; the resource group and virtual network were created first."""
    prov = make(location="eastus", worker_init="conda activate sim", walltime="00:45:00",
                ssh_public_key="ssh-ed25519 AAAA test", spot_max_price=-1,
                tags={"cost-center": "42"})
    name = prov.submit("process_worker_pool.py -a 1.2.3.4", 1, "plait.htex.block-0")

    [token] = api.sent("POST", "/oauth2/v2.0/token$")
    assert "grant_type=client_credentials" in token.raw.decode()
    assert api.groups["parsl.group"]["location"] == "eastus"
    subnet = api.vnets[("parsl.group", "parsl.vnet")]["properties"]["subnets"][0]["id"]
    [sent] = api.sent("PUT", f"/virtualMachines/{name}$")
    assert sent.headers["authorization"].removeprefix("Bearer ") in api.tokens
    body = sent.body
    assert name.startswith("plait-htex-block-0-")
    assert body["location"] == "eastus"
    assert body["tags"] == {"cost-center": "42", "plait-run": prov.run_id,
                            "plait-provider": "azure", "plait-job": name}
    props = body["properties"]
    assert props["hardwareProfile"] == {"vmSize": "Standard_D2s_v3"}
    assert props["storageProfile"] == {
        "imageReference": {"publisher": "Canonical", "offer": "ubuntu-24_04-lts",
                           "sku": "server", "version": "latest"},
        "osDisk": {"createOption": "FromImage", "deleteOption": "Delete", "diskSizeGB": 64,
                   "managedDisk": {"storageAccountType": "Standard_LRS"}}}
    osp = props["osProfile"]
    assert (osp["computerName"], osp["adminUsername"], osp["adminPassword"]) == (
        name, "plait", "Not-a-real-pw-42")
    assert osp["linuxConfiguration"] == {
        "disablePasswordAuthentication": False,
        "ssh": {"publicKeys": [{"path": "/home/plait/.ssh/authorized_keys",
                                "keyData": "ssh-ed25519 AAAA test"}]}}
    script = base64.b64decode(osp["customData"]).decode()
    assert script == prov.job_script("process_worker_pool.py -a 1.2.3.4", 1, name)
    assert "conda activate sim" in script and "timeout -k 30 -s TERM 2700" in script
    [nic] = props["networkProfile"]["networkInterfaceConfigurations"]
    assert nic["name"] == f"{name}-nic" and nic["properties"]["deleteOption"] == "Delete"
    [ipc] = nic["properties"]["ipConfigurations"]
    assert ipc["properties"]["subnet"] == {"id": subnet}
    assert ipc["properties"]["publicIPAddressConfiguration"]["properties"][
        "deleteOption"] == "Delete"
    assert (props["priority"], props["evictionPolicy"], props["billingProfile"]) == (
        "Spot", "Delete", {"maxPrice": -1})
    assert prov.status([name])[0].state is JobState.PENDING


def test_the_stand_in_refuses_members_azure_does_not_have() -> None:
    """stand-in: the VirtualMachine model of azure-mgmt-compute, as the stand-in applies it
    to every VM it is sent (so the field-by-field test above also passes Azure's model)."""
    from azure.mgmt.compute import models
    from azure_api import unknown_members

    ok = {"location": "x", "properties": {"hardwareProfile": {"vmSize": "s"}, "networkProfile": {
        "networkInterfaceConfigurations": [{"name": "n", "properties": {"primary": True}}]}}}
    assert unknown_members(ok, models.VirtualMachine(ok)) == []
    typo = {"properties": {"hardwareProfile": {"vmSise": "s"}}}
    [problem] = unknown_members(typo, models.VirtualMachine(typo))
    assert "'vmSise'" in problem and "properties.hardwareProfile.vmSise" in problem
    deep = {"properties": {"networkProfile": {"networkInterfaceConfigurations": [
        {"name": "n", "properties": {"primari": True}}]}}}
    assert "primari" in unknown_members(deep, models.VirtualMachine(deep))[0]


def test_an_existing_subnet_is_used_as_is(make: Any, api: AzureAPI) -> None:
    """stand-in: Entra ID + Resource Manager stand-in."""
    subnet = "/subscriptions/x/resourceGroups/net/providers/Microsoft.Network/" \
             "virtualNetworks/v/subnets/workers"
    prov = make(subnet_id=subnet, public_ip=False)
    prov.submit("w", 1, "b")
    assert not api.vnets
    [ipc] = api.sent("PUT", "/virtualMachines/")[0].body["properties"]["networkProfile"][
        "networkInterfaceConfigurations"][0]["properties"]["ipConfigurations"]
    assert ipc["properties"] == {"subnet": {"id": subnet}}


def test_status_maps_provisioning_and_power_states(make: Any, api: AzureAPI) -> None:
    """stand-in: Entra ID + Resource Manager stand-in; states from the instance view."""
    prov = make()
    table = [(("Succeeded", "starting"), JobState.PENDING),
             (("Succeeded", "running"), JobState.RUNNING),
             (("Succeeded", "deallocated"), JobState.HELD),
             (("Succeeded", "stopped"), JobState.COMPLETED),
             (("Failed", None), JobState.FAILED),
             (("Succeeded", "hovering"), JobState.UNKNOWN),
             (("Creating", None), JobState.PENDING),
             (("Updating", None), JobState.RUNNING),
             (("Succeeded", "deallocating"), JobState.HELD),
             (("Succeeded", "stopping"), JobState.COMPLETED),
             (("Succeeded", "unknown"), JobState.UNKNOWN),
             (("Canceled", None), JobState.FAILED)]
    names = [prov.submit("w", 1, f"b{i}") for i in range(len(table))]
    for name, ((prov_state, power), _) in zip(names, table, strict=True):
        api.set_state(name, prov_state, power)
    got = prov.status(names)
    assert [s.state for s in got] == [state for _, state in table]
    assert "sufficient capacity" in str(got[4].message)
    assert ("parsl.group", names[3]) not in api.vms  # a stopped VM is still billed: deleted
    assert ("parsl.group", names[4]) not in api.vms


def test_cancel_and_cleanup_leave_nothing(make: Any, api: AzureAPI) -> None:
    """stand-in: Entra ID + Resource Manager stand-in. A VM tagged with the run that plait
    never heard back about is found by its tag and deleted."""
    prov = make()
    first, second = prov.submit("w", 1, "b0"), prov.submit("w", 1, "b1")
    assert prov.cancel([first]) == [True]
    assert ("parsl.group", first) not in api.vms
    assert prov.status([first])[0].state is JobState.CANCELLED
    api.vms[("parsl.group", "orphan")] = {**api.vms[("parsl.group", second)], "name": "orphan"}
    api.set_state("orphan", "Succeeded", "running")
    assert prov.cleanup(timeout=5) == []
    assert not api.vms


def test_errors_name_the_cause_and_the_fix(make: Any, api: AzureAPI, tmp_path: Path) -> None:
    """stand-in: Entra ID + Resource Manager stand-in answering with documented errors."""
    cases: list[tuple[Any, list[str], str]] = [
        (lambda: make({**REF, "sku": "nope"}), ["PlatformImageNotFound", "az vm image list"],
         "image"),
        (lambda: make({**REF, "vm_size": "Standard_X99"}), ["InvalidParameter", "vm size"],
         "invalid"),
        (lambda: make(location="mars"), ["LocationNotAvailableForResourceGroup",
                                         "list-locations"], "region"),
    ]
    for build, words, kind in cases:
        with pytest.raises(SubmitException) as info:
            build().submit("w", 1, "b")
        for word in words:
            assert word.lower() in str(info.value).lower(), words
        assert info.value.__cause__.kind == kind  # type: ignore[union-attr]

    api.max_cores = 0
    with pytest.raises(SubmitException, match=r"exceeding approved .* quota.*lower max_blocks"):
        make().submit("w", 1, "b")
    api.max_cores = None

    api.readers.add(KEYS["AZURE_CLIENT_ID"])
    with pytest.raises(SubmitException, match=r"AuthorizationFailed.*Virtual Machine "
                                              r"Contributor"):
        make().submit("w", 1, "b")
    api.readers.clear()

    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({**KEYS, "AZURE_CLIENT_SECRET": "expired"}))
    with pytest.raises(SubmitException, match=r"AADSTS7000215.*secrets expire") as info:
        make(key_file=str(wrong)).submit("w", 1, "b")
    assert info.value.__cause__.kind == "credentials"  # type: ignore[union-attr]


def test_configuration_is_checked_offline(tmp_path: Path) -> None:
    """stand-in: none needed: these fail before any API call."""
    with pytest.raises(ConfigurationError, match="Missing or not a string: vm_size"):
        AzureProvider({k: v for k, v in REF.items() if k != "vm_size"}, key_file=None)
    with pytest.raises(ConfigurationError, match="ssh_public_key"):
        AzureProvider({k: v for k, v in REF.items() if k != "password"})
    with pytest.raises(ConfigurationError) as info:
        AzureProvider({**REF, "vm_size": 3})
    assert REF["password"] not in str(info.value)  # never shown, even in an error
    with pytest.raises(ConfigurationError, match="AZURE_CLIENT_SECRET"):
        AzureProvider(REF, key_file=str(tmp_path / "missing.json"))


def test_without_the_extra_construction_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """stand-in: azure-identity made unimportable in this process."""
    monkeypatch.setitem(sys.modules, "azure.identity", None)
    with pytest.raises(OptionalModuleMissing, match=r"plait\[azure\]"):
        AzureProvider(REF)
