"""AzureProvider: each block is one Azure VM whose custom data starts the workers.

    first submit ─Entra ID: client-credentials token─▶ ARM: resource group, virtual network
                 (both kept between runs: they cost nothing)
    submit() ─PUT virtualMachines/<name> (tags, customData; NIC, public IP and OS disk created
              with the VM and deleted with it)─▶ Azure Resource Manager
    status() ─list VMs of the group (tags, provisioningState) + instanceView of those
              provisioned─▶ power state
    cancel() ─DELETE virtualMachines/<name>─▶ ARM; a VM that powered off is deleted too
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
from collections.abc import Iterator
from typing import Any

from plait._validate import check_bool, check_number, fail, is_int
from plait.launchers import Launcher
from plait.providers._cloud import (
    TAG_PROVIDER,
    TAG_RUN,
    CloudProvider,
    Observed,
    check_str_map,
    check_strs,
    load_sdk,
    map_state,
    or_empty,
    slug,
)
from plait.providers._cloud_errors import CloudAPIError, Kind
from plait.providers._jobs import JobState, JobStatus

log = logging.getLogger(__name__)

_KEYS = ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_SUBSCRIPTION_ID")
_VM_KEYS = ("publisher", "offer", "sku", "version", "vm_size", "admin_username")
#: provisioningState values; Succeeded is resolved by the power state below
PROVISIONING = {"Creating": JobState.PENDING, "Updating": JobState.RUNNING,
                "Migrating": JobState.RUNNING}
_PROVISIONING_ENDED = frozenset({"Failed", "Canceled"})
#: PowerState/<code> of the VM instance view (Azure's "States and billing status" page).
#: stopping/stopped (powered off from inside: the workers ended) are resolved in _power().
POWER = {"starting": JobState.PENDING, "running": JobState.RUNNING,
         "deallocating": JobState.HELD, "deallocated": JobState.HELD,
         "unknown": JobState.UNKNOWN}
_ERROR_KINDS: dict[str, Kind] = {
    "AuthenticationFailed": "credentials", "InvalidAuthenticationToken": "credentials",
    "ExpiredAuthenticationToken": "credentials",
    "AuthorizationFailed": "permission", "LinkedAuthorizationFailed": "permission",
    "QuotaExceeded": "quota", "OperationNotAllowed": "quota", "SkuNotAvailable": "quota",
    "AllocationFailed": "quota", "ZonalAllocationFailed": "quota",
    "PlatformImageNotFound": "image", "ImageNotFound": "image",
    "InvalidTemplateDeployment": "invalid", "InvalidParameter": "invalid",
    "LocationNotAvailableForResourceGroup": "region", "NoRegisteredProviderFound": "region",
    "LocationNotAvailableForResourceType": "region", "InvalidResourceLocation": "region",
    "SubscriptionNotFound": "credentials", "ResourceGroupNotFound": "not_found",
    "InvalidSubnetId": "network", "SubnetNotFound": "network",
}
_HINTS: dict[Kind, str] = {
    "credentials": "Entra ID refused the service principal: check AZURE_CLIENT_ID, "
                   "AZURE_CLIENT_SECRET (secrets expire), AZURE_TENANT_ID and "
                   "AZURE_SUBSCRIPTION_ID in key_file or the environment",
    "permission": "the service principal needs a role such as Virtual Machine Contributor "
                  "and Network Contributor on the resource group",
    "quota": "a vCPU quota or the region's capacity for this size was reached: lower "
             "max_blocks, pick another vm_size or location, or ask for more quota",
    "image": "check publisher, offer, sku and version in vm_reference (az vm image list "
             "--all --publisher <publisher>)",
    "region": "check location (az account list-locations -o table)",
    "invalid": "the request was refused: the message names the field of vm_reference",
}


class AzureProvider(CloudProvider):
    """Blocks on Azure virtual machines (Parsl's ``AzureProvider``), one VM per block.

    Args:
        vm_reference: ``{"publisher", "offer", "sku", "version", "vm_size",
            "disk_size_gb", "admin_username", "password"}`` as in Parsl (``password`` may be
            left out when ``ssh_public_key`` is given).
        location: Azure region (default ``westus``).
        group_name: resource group, created if missing (default ``parsl.group``).
        vnet_name: virtual network created in it, with one subnet (default ``parsl.vnet``).
        key_file: JSON with AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_TENANT_ID and
            AZURE_SUBSCRIPTION_ID; else those environment variables; with no secret,
            azure-identity's DefaultAzureCredential (az login, managed identity).
        key_name: accepted for Parsl compatibility (unused).
        ssh_public_key: an OpenSSH public key (text) for admin_username.
        subnet_id: an existing subnet's resource id (then no virtual network is created).
        public_ip: give each VM a public address (deleted with it), for workers that must
            reach an interchange outside Azure.
        spot_max_price: > 0 (or -1: up to on-demand price) for Spot VMs, deleted on eviction.
        tags: more tags for every VM.
        arm_endpoint, authority: Resource Manager and Entra ID endpoints for sovereign
            clouds (defaults: Azure public cloud).
        worker_init, walltime, linger, launcher, blocks: as for the other cloud providers.
    """

    extra = "azure"

    def __init__(
        self, vm_reference: dict[str, Any], init_blocks: int = 1, min_blocks: int = 0,
        max_blocks: int = 10, parallelism: float = 1, worker_init: str = "",
        location: str = "westus", group_name: str = "parsl.group", key_name: str | None = None,
        key_file: str | None = None, vnet_name: str = "parsl.vnet", linger: bool = False,
        launcher: Launcher | None = None, *, walltime: str | None = None,
        ssh_public_key: str | None = None, subnet_id: str | None = None,
        public_ip: bool = True, spot_max_price: float | None = None,
        tags: dict[str, str] | None = None, arm_endpoint: str | None = None,
        authority: str | None = None, nodes_per_block: int = 1, label: str = "azure",
    ) -> None:
        (self._identity, self._compute_mod, self._network_mod, self._resource_mod,
         self._errors) = load_sdk("AzureProvider", "azure", "azure.identity",
                                  "azure.mgmt.compute", "azure.mgmt.network",
                                  "azure.mgmt.resource.resources", "azure.core.exceptions")
        self.vm_reference = vm_reference
        self.location, self.group_name, self.vnet_name = location, group_name, vnet_name
        self.key_name, self.key_file = key_name, key_file
        self.ssh_public_key, self.subnet_id = ssh_public_key, subnet_id
        self.public_ip = public_ip
        self.spot_max_price = spot_max_price
        self.extra_tags = or_empty(tags, {})
        self.arm_endpoint, self.authority = arm_endpoint, authority
        super().__init__(
            label=label, init_blocks=init_blocks, min_blocks=min_blocks,
            max_blocks=max_blocks, nodes_per_block=nodes_per_block, parallelism=parallelism,
            worker_init=worker_init, launcher=launcher, walltime=walltime, linger=linger)
        self._keys = self._read_keys()
        self._compute: Any = None

    def validate(self) -> None:
        super().validate()
        name = "AzureProvider"
        self._check_vm_reference()
        check_strs(name, ("location", self.location), ("group_name", self.group_name),
                   ("vnet_name", self.vnet_name))
        check_strs(name, ("key_name", self.key_name), ("key_file", self.key_file),
                   ("ssh_public_key", self.ssh_public_key), ("subnet_id", self.subnet_id),
                   ("arm_endpoint", self.arm_endpoint), ("authority", self.authority),
                   none=True)
        check_bool("public_ip", self.public_ip, owner=name)
        price = self.spot_max_price
        if price is not None and price != -1:
            check_number("spot_max_price", price, low=0, strict=True, owner=name,
                         kind="a price per hour, -1 (up to the on-demand price)")
        check_str_map("tags", self.extra_tags, name)

    def _check_vm_reference(self) -> None:
        ref = self.vm_reference
        allowed = ("a dict with publisher, offer, sku, version, vm_size, admin_username (and "
                   "password, or pass ssh_public_key=; disk_size_gb optional)")
        if not isinstance(ref, dict):
            raise fail("vm_reference", ref, allowed, "AzureProvider")
        shown = {k: "***" if k == "password" else v for k, v in ref.items()}
        missing = [k for k in _VM_KEYS if not isinstance(ref.get(k), str) or not ref[k]]
        if missing:
            raise fail("vm_reference", shown, allowed, "AzureProvider",
                       f"Missing or not a string: {', '.join(missing)}.")
        if not isinstance(ref.get("password") or "", str):
            raise fail("vm_reference", shown, allowed, "AzureProvider",
                       "Its password must be a string.")
        size = ref.get("disk_size_gb")
        if size is not None and not (is_int(size) and size > 0):
            raise fail("vm_reference", shown, allowed, "AzureProvider",
                       "Its disk_size_gb must be an int > 0.")
        if not ref.get("password") and not self.ssh_public_key:
            raise fail("vm_reference", shown, allowed, "AzureProvider",
                       "It has no password: add one, or pass ssh_public_key=.")

    def _read_keys(self) -> dict[str, str]:
        if self.key_file is None:
            return {k: os.environ[k] for k in _KEYS if os.environ.get(k)}
        try:
            with open(self.key_file) as fh:
                keys = json.load(fh)
            return {k: str(keys[k]) for k in _KEYS}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise fail("key_file", self.key_file, f"a readable JSON file with "
                       f"{', '.join(_KEYS)}", "AzureProvider",
                       f"Reading it failed: {exc!r}.") from exc

    # -- connection ------------------------------------------------------------------------
    def _connect(self) -> None:
        subscription = self._keys.get("AZURE_SUBSCRIPTION_ID")
        if not subscription:
            raise CloudAPIError(self.label, "finding the subscription", "credentials",
                                "no AZURE_SUBSCRIPTION_ID in key_file or the environment",
                                _HINTS["credentials"])
        extra: dict[str, Any] = {}
        if self.authority:
            extra.update(authority=self.authority, disable_instance_discovery=True)
        if {"AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID"} <= set(self._keys):
            credential = self._identity.ClientSecretCredential(
                self._keys["AZURE_TENANT_ID"], self._keys["AZURE_CLIENT_ID"],
                self._keys["AZURE_CLIENT_SECRET"], **extra)
        else:
            credential = self._identity.DefaultAzureCredential(**extra)
        arm: dict[str, Any] = {}
        if self.arm_endpoint:
            arm.update(base_url=self.arm_endpoint,
                       credential_scopes=[f"{self.arm_endpoint.rstrip('/')}/.default"])
        self._compute = self._compute_mod.ComputeManagementClient(credential, subscription,
                                                                  **arm)
        resources = self._resource_mod.ResourceManagementClient(credential, subscription, **arm)
        with self._api(f"creating resource group {self.group_name} in {self.location}"):
            resources.resource_groups.create_or_update(
                self.group_name, {"location": self.location,
                                  "tags": {TAG_PROVIDER: slug(self.label)}})
        if self.subnet_id is None:
            network = self._network_mod.NetworkManagementClient(credential, subscription,
                                                                **arm)
            self.subnet_id = self._ensure_vnet(network)

    def _ensure_vnet(self, network: Any) -> str:
        body = {"location": self.location, "tags": {TAG_PROVIDER: slug(self.label)},
                "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
                               "subnets": [{"name": "default", "properties": {
                                   "addressPrefix": "10.0.0.0/24"}}]}}
        with self._api(f"creating virtual network {self.vnet_name}"):
            vnet = network.virtual_networks.begin_create_or_update(
                self.group_name, self.vnet_name, body).result(timeout=300)
        return str(vnet.subnets[0].id)

    @contextlib.contextmanager
    def _api(self, operation: str) -> Iterator[None]:
        """Turn the SDK's exceptions into CloudAPIError naming ``operation`` and the fix."""
        errors = self._errors
        try:
            yield
        except errors.ClientAuthenticationError as exc:
            raise CloudAPIError(self.label, operation, "credentials", _brief(exc),
                                _HINTS["credentials"], "401") from exc
        except errors.HttpResponseError as exc:
            raise self._classify(operation, exc) from exc
        except (errors.ServiceRequestError, errors.ServiceResponseError) as exc:
            raise CloudAPIError(self.label, operation, "unreachable", str(exc)) from exc
        except errors.AzureError as exc:
            raise CloudAPIError(self.label, operation, "other",
                                f"{type(exc).__name__}: {exc}") from exc

    def _classify(self, operation: str, exc: Any) -> CloudAPIError:
        status = int(getattr(exc, "status_code", 0) or 0)
        error = getattr(exc, "error", None)
        code = str(getattr(error, "code", "") or "")
        message = str(getattr(error, "message", "") or exc.message or exc)
        kind: Kind = _ERROR_KINDS.get(code, "other")
        if kind == "other" and status == 404:
            kind = "not_found"
        elif kind == "other" and status == 403:
            kind = "permission"
        return CloudAPIError(self.label, operation, kind, f"{code or status}: {message}",
                             _HINTS.get(kind), code or str(status))

    # -- the VM ------------------------------------------------------------------------------
    def vm_body(self, name: str, script: str, tags: dict[str, str]) -> dict[str, Any]:
        """The VirtualMachine resource a block is created from (what ``submit`` sends)."""
        ref = self.vm_reference
        admin = ref["admin_username"]
        os_profile: dict[str, Any] = {
            "computerName": name[:64], "adminUsername": admin,
            "customData": base64.b64encode(script.encode()).decode()}
        linux: dict[str, Any] = {"disablePasswordAuthentication": not ref.get("password")}
        if ref.get("password"):
            os_profile["adminPassword"] = ref["password"]
        if self.ssh_public_key:
            linux["ssh"] = {"publicKeys": [{"path": f"/home/{admin}/.ssh/authorized_keys",
                                            "keyData": self.ssh_public_key}]}
        os_profile["linuxConfiguration"] = linux
        os_disk: dict[str, Any] = {"createOption": "FromImage", "deleteOption": "Delete",
                                   "managedDisk": {"storageAccountType": "Standard_LRS"}}
        if ref.get("disk_size_gb"):
            os_disk["diskSizeGB"] = int(ref["disk_size_gb"])
        ip_config: dict[str, Any] = {"subnet": {"id": self.subnet_id}}
        if self.public_ip:
            ip_config["publicIPAddressConfiguration"] = {
                "name": f"{name}-ip", "sku": {"name": "Standard"},
                "properties": {"deleteOption": "Delete", "publicIPAllocationMethod": "Static"}}
        props: dict[str, Any] = {
            "hardwareProfile": {"vmSize": ref["vm_size"]},
            "storageProfile": {"imageReference": {k: ref[k] for k in
                                                  ("publisher", "offer", "sku", "version")},
                               "osDisk": os_disk},
            "osProfile": os_profile,
            "networkProfile": {
                "networkApiVersion": "2020-11-01",
                "networkInterfaceConfigurations": [{"name": f"{name}-nic", "properties": {
                    "primary": True, "deleteOption": "Delete",
                    "ipConfigurations": [{"name": "ipconfig1", "properties": ip_config}]}}]},
        }
        if self.spot_max_price is not None:
            props.update(priority="Spot", evictionPolicy="Delete",
                         billingProfile={"maxPrice": self.spot_max_price})
        return {"location": self.location, "tags": {**self.extra_tags, **tags},
                "properties": props}

    def _create(self, name: str, command: str, tasks_per_node: int,
                tags: dict[str, str]) -> str:
        script = self.worker_script(command, tasks_per_node, name)
        with self._api(f"creating VM {name} in {self.group_name}"):
            # polling=False: return once ARM accepted the VM; its progress shows in status()
            self._compute.virtual_machines.begin_create_or_update(
                self.group_name, name, self.vm_body(name, script, tags), polling=False)
        return name

    def _run_vms(self) -> list[Any]:
        with self._api(f"listing VMs in {self.group_name}"):
            vms = list(self._compute.virtual_machines.list(self.group_name))
        return [vm for vm in vms if (vm.tags or {}).get(TAG_RUN) == self.run_id]

    def _observe(self, job_ids: list[str]) -> dict[str, Observed]:
        wanted = set(job_ids)
        return {vm.name: self._observed(vm) for vm in self._run_vms() if vm.name in wanted}

    def _observed(self, vm: Any) -> Observed:
        state = vm.provisioning_state or "Creating"
        if state == "Succeeded":
            with self._api(f"reading the state of VM {vm.name}"):
                view = self._compute.virtual_machines.instance_view(self.group_name, vm.name)
            return Observed(self._power(vm.name, view))
        if state in _PROVISIONING_ENDED:
            verb = "failed to provision" if state == "Failed" else "was canceled while provisioning"
            return Observed(JobStatus(JobState.FAILED, f"VM {vm.name} {verb}"
                                      f"{self._why(vm.name)}"))
        if state == "Deleting":
            return Observed(JobStatus(JobState.CANCELLED, f"VM {vm.name} is being deleted"),
                            exists=False)
        return Observed(JobStatus(map_state(self.label, state, PROVISIONING)))

    def _why(self, name: str) -> str:
        try:
            with self._api(f"reading the state of VM {name}"):
                view = self._compute.virtual_machines.instance_view(self.group_name, name)
        except CloudAPIError:
            return ""
        texts = [s.message or s.display_status for s in view.statuses or []
                 if (s.code or "").startswith("ProvisioningState/failed")]
        return f": {'; '.join(t for t in texts if t)}" if texts else ""

    def _power(self, name: str, view: Any) -> JobStatus:
        codes = [s.code or "" for s in view.statuses or []]
        power = next((c.split("/", 1)[1] for c in codes if c.startswith("PowerState/")), None)
        if power is None:
            return JobStatus(JobState.PENDING)
        if power in ("stopping", "stopped"):
            return self.ended_by_itself(name, f"VM {name}")
        state = map_state(self.label, power, POWER)
        if state is JobState.HELD:
            return JobStatus(state, f"VM {name} is {power}: start it or cancel the block")
        return JobStatus(state)

    def _delete_one(self, job_id: str) -> None:
        with self._api(f"deleting VM {job_id}"):
            # polling=False: ARM accepted the deletion; status() sees the VM go
            self._compute.virtual_machines.begin_delete(self.group_name, job_id,
                                                        polling=False)

    def _list_tagged(self) -> list[str]:
        return [vm.name for vm in self._run_vms()]

    def __repr__(self) -> str:
        return (f"AzureProvider(location={self.location!r}, group_name={self.group_name!r}, "
                f"vm_size={self.vm_reference.get('vm_size')!r}, max_blocks={self.max_blocks})")


def _brief(exc: Exception) -> str:
    """The first lines of an azure-identity error (its full text repeats troubleshooting)."""
    return " ".join(str(exc).split("\n")[:2])[:600]
