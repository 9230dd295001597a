"""Stand-in for Microsoft Entra ID's token endpoint and Azure Resource Manager (HTTPS).

Azure offers no local emulator for Resource Manager or Compute, so this serves replies
shaped as the Azure REST references document them: the tenant's OpenID configuration and
the OAuth 2.0 client-credentials token (AADSTS errors for a wrong secret), resource groups,
virtual networks, virtual machines and their instance views, and ARM's error body
``{"error": {"code", "message"}}`` (AuthorizationFailed, OperationNotAllowed for quota,
PlatformImageNotFound, LocationNotAvailableForResourceGroup, ...). It speaks TLS with a
certificate the test trusts, since the SDKs send tokens over HTTPS only. The test moves VMs
through provisioning and power states as Azure would (``set_state``).
"""

from __future__ import annotations

import secrets
import ssl
import uuid
from typing import Any
from urllib.parse import parse_qs

from azure.mgmt.compute import models
from azure.mgmt.compute._utils.model_base import Model
from standin import Reply, Request, StandIn

SUB = r"/subscriptions/([^/]+)"
GROUP = SUB + r"/resource[gG]roups/([^/]+)"
VMS = GROUP + r"/providers/Microsoft.Compute/virtualMachines"


def arm_error(status: int, code: str, message: str) -> Reply:
    return Reply(status, {"error": {"code": code, "message": message}})


def unknown_members(body: dict[str, Any], model: Any, path: str = "") -> list[str]:
    """Members of ``body`` that the SDK's model of it (and its nested models) lacks."""
    fields = {rf._rest_name: attr for attr, rf in model._attr_to_rest_field.items()}
    found = []
    for key, item in body.items():
        if key not in fields:
            found.append(f"Could not find member '{key}' on object of type "
                         f"'{type(model).__name__}'. Path '{path}{key}'")
            continue
        inner = getattr(model, fields[key])
        if isinstance(item, dict) and isinstance(inner, Model):
            found += unknown_members(item, inner, f"{path}{key}.")
        elif isinstance(item, list) and isinstance(inner, list):
            for i, (raw, sub) in enumerate(zip(item, inner, strict=False)):
                if isinstance(raw, dict) and isinstance(sub, Model):
                    found += unknown_members(raw, sub, f"{path}{key}[{i}].")
    return found


class AzureAPI(StandIn):
    """One tenant with one service principal, one subscription."""

    def __init__(self, tls: ssl.SSLContext, tenant: str, client_id: str, secret: str,
                 subscription: str) -> None:
        super().__init__(tls)
        self.tenant, self.client_id, self.secret = tenant, client_id, secret
        self.subscription = subscription
        self.tokens: set[str] = set()
        self.locations = {"westus", "eastus"}
        self.images = {("Canonical", "ubuntu-24_04-lts", "server", "latest")}
        self.sizes = {"Standard_D2s_v3", "Standard_B1s"}
        self.groups: dict[str, dict[str, Any]] = {}
        self.vnets: dict[tuple[str, str], dict[str, Any]] = {}
        self.vms: dict[tuple[str, str], dict[str, Any]] = {}
        #: VM name -> (provisioning state, power state or None), as the instance view says
        self.states: dict[str, tuple[str, str | None]] = {}
        self.max_cores: int | None = None
        #: principals without write permission
        self.readers: set[str] = set()
        self.route("GET", r"/([^/]+)/v2.0/.well-known/openid-configuration", self.openid)
        self.route("POST", r"/([^/]+)/oauth2/v2.0/token", self.token)
        self.route("PUT", GROUP, self.put_group)
        self.route("PUT", GROUP + r"/providers/Microsoft.Network/virtualNetworks/([^/]+)",
                   self.put_vnet)
        self.route("PUT", VMS + r"/([^/]+)", self.put_vm)
        self.route("GET", VMS, self.list_vms)
        self.route("GET", VMS + r"/([^/]+)/instanceView", self.instance_view)
        self.route("DELETE", VMS + r"/([^/]+)", self.delete_vm)

    # -- Entra ID ---------------------------------------------------------------------------
    def openid(self, req: Request, tenant: str) -> Reply:
        base = f"{self.url}/{tenant}"
        return Reply(200, {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "issuer": f"{base}/v2.0", "jwks_uri": f"{base}/discovery/v2.0/keys",
            "token_endpoint_auth_methods_supported": ["client_secret_post",
                                                      "private_key_jwt",
                                                      "client_secret_basic"],
            "response_types_supported": ["code", "id_token", "code id_token",
                                         "id_token token"],
            "tenant_region_scope": "NA"})

    def token(self, req: Request, tenant: str) -> Reply:
        form = {k: v[0] for k, v in parse_qs(req.raw.decode()).items()}
        if tenant != self.tenant:
            return Reply(400, {"error": "invalid_tenant", "error_codes": [90002],
                               "error_description": f"AADSTS90002: Tenant '{tenant}' not "
                               "found."})
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.secret:
            return Reply(401, {"error": "invalid_client", "error_codes": [7000215],
                               "error_description": "AADSTS7000215: Invalid client secret "
                               "provided. Ensure the secret being sent in the request is "
                               "the client secret value, not the client secret ID."})
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        return Reply(200, {"token_type": "Bearer", "expires_in": 3599,
                           "ext_expires_in": 3599, "access_token": token})

    # -- Resource Manager --------------------------------------------------------------------
    def _authorized(self, req: Request, sub: str, write: bool = False) -> Reply | None:
        token = req.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            return arm_error(401, "InvalidAuthenticationToken", "The access token is "
                             "invalid.")
        if sub != self.subscription:
            return arm_error(404, "SubscriptionNotFound", f"The subscription '{sub}' could "
                             "not be found.")
        if write and self.client_id in self.readers:
            return arm_error(403, "AuthorizationFailed", f"The client '{self.client_id}' "
                             f"with object id '{self.client_id}' does not have authorization "
                             "to perform action 'Microsoft.Compute/virtualMachines/write' "
                             f"over scope '{req.path}' or the scope is invalid. If access "
                             "was recently granted, please refresh your credentials.")
        return None

    def put_group(self, req: Request, sub: str, group: str) -> Reply:
        if (denied := self._authorized(req, sub)) is not None:
            return denied
        location = req.body.get("location", "")
        if location not in self.locations:
            return arm_error(400, "LocationNotAvailableForResourceGroup", f"The provided "
                             f"location '{location}' is not available for resource group. "
                             f"List of available regions is '{','.join(sorted(self.locations))}'.")
        existed = group in self.groups
        self.groups[group] = {"id": f"/subscriptions/{sub}/resourceGroups/{group}",
                              "name": group, "type": "Microsoft.Resources/resourceGroups",
                              "location": location, "tags": req.body.get("tags", {}),
                              "properties": {"provisioningState": "Succeeded"}}
        return Reply(200 if existed else 201, self.groups[group])

    def put_vnet(self, req: Request, sub: str, group: str, name: str) -> Reply:
        if (denied := self._authorized(req, sub)) is not None:
            return denied
        vid = f"/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.Network/" \
              f"virtualNetworks/{name}"
        subnets = [{"name": s["name"], "id": f"{vid}/subnets/{s['name']}",
                    "properties": {**s["properties"], "provisioningState": "Succeeded"}}
                   for s in req.body["properties"]["subnets"]]
        vnet = {"id": vid, "name": name, "type": "Microsoft.Network/virtualNetworks",
                "location": req.body["location"], "tags": req.body.get("tags", {}),
                "properties": {**req.body["properties"], "subnets": subnets,
                               "provisioningState": "Succeeded"}}
        self.vnets[(group, name)] = vnet
        return Reply(201, vnet)

    def put_vm(self, req: Request, sub: str, group: str, name: str) -> Reply:
        if (denied := self._authorized(req, sub, write=True)) is not None:
            return denied
        if group not in self.groups:
            return arm_error(404, "ResourceGroupNotFound", f"Resource group '{group}' could "
                             "not be found.")
        if problems := unknown_members(req.body, models.VirtualMachine(req.body)):
            return arm_error(400, "InvalidRequestContent", "The request content was invalid "
                             f"and could not be deserialized: '{problems[0]}'.")
        props = req.body["properties"]
        ref = props["storageProfile"]["imageReference"]
        key = (ref.get("publisher"), ref.get("offer"), ref.get("sku"), ref.get("version"))
        if key not in self.images:
            return arm_error(404, "PlatformImageNotFound", f"The platform image "
                             f"'{':'.join(str(k) for k in key)}' is not available. Verify "
                             "that all fields in the storage profile are correct.")
        size = props["hardwareProfile"]["vmSize"]
        if size not in self.sizes:
            return arm_error(400, "InvalidParameter", f"The value {size} provided for the VM "
                             "size is not valid.")
        used = len(self.vms) * 2
        if self.max_cores is not None and used + 2 > self.max_cores:
            return arm_error(409, "OperationNotAllowed", "Operation could not be completed "
                             "as it results in exceeding approved standardDSv3Family Cores "
                             f"quota. Additional details - Deployment Model: Resource "
                             f"Manager, Location: {req.body['location']}, Current Limit: "
                             f"{self.max_cores}, Current Usage: {used}, Additional Required: "
                             f"2, (Minimum) New Limit Required: {used + 2}.")
        vm = {"id": f"/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft."
                    f"Compute/virtualMachines/{name}",
              "name": name, "type": "Microsoft.Compute/virtualMachines",
              "location": req.body["location"], "tags": req.body.get("tags", {}),
              "properties": {**props, "vmId": str(uuid.uuid4()),
                             "provisioningState": "Creating"}}
        vm["properties"]["osProfile"] = {k: v for k, v in props["osProfile"].items()
                                         if k not in ("adminPassword", "customData")}
        self.vms[(group, name)] = vm
        self.states[name] = ("Creating", None)
        return Reply(201, vm, {"Azure-AsyncOperation": f"{self.url}/operations/{name}"})

    def _vm(self, group: str, name: str) -> dict[str, Any]:
        vm = self.vms[(group, name)]
        vm["properties"]["provisioningState"] = self.states[name][0]
        return vm

    def list_vms(self, req: Request, sub: str, group: str) -> Reply:
        if (denied := self._authorized(req, sub)) is not None:
            return denied
        with self.lock:
            names = [n for g, n in self.vms if g == group]
            return Reply(200, {"value": [self._vm(group, n) for n in names]})

    def instance_view(self, req: Request, sub: str, group: str, name: str) -> Reply:
        if (denied := self._authorized(req, sub)) is not None:
            return denied
        if (group, name) not in self.vms:
            return arm_error(404, "ResourceNotFound", f"The Resource 'Microsoft.Compute/"
                             f"virtualMachines/{name}' under resource group '{group}' was "
                             "not found.")
        prov, power = self.states[name]
        statuses = [{"code": f"ProvisioningState/{prov.lower()}", "level": "Info",
                     "displayStatus": f"Provisioning {prov.lower()}"}]
        if prov == "Failed":
            statuses[0].update(code="ProvisioningState/failed/AllocationFailed",
                               level="Error", displayStatus="Provisioning failed",
                               message="Allocation failed. We do not have sufficient "
                                       "capacity for the requested VM size in this region.")
        if power is not None:
            statuses.append({"code": f"PowerState/{power}", "level": "Info",
                             "displayStatus": f"VM {power}"})
        return Reply(200, {"computerName": name, "osName": "ubuntu", "statuses": statuses})

    def delete_vm(self, req: Request, sub: str, group: str, name: str) -> Reply:
        if (denied := self._authorized(req, sub, write=True)) is not None:
            return denied
        with self.lock:
            if self.vms.pop((group, name), None) is None:
                return Reply(204)  # ARM: deleting what is not there succeeds
            self.states.pop(name, None)
        return Reply(202, None, {"Location": f"{self.url}/operations/delete-{name}"})

    def set_state(self, name: str, provisioning: str, power: str | None = None) -> None:
        with self.lock:
            self.states[name] = (provisioning, power)
