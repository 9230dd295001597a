"""Stand-in for Google's OAuth 2.0 token endpoint and the Compute Engine v1 instances API.

Google offers no local Compute Engine emulator, so this serves replies shaped as the Compute
Engine REST reference documents them (Instance, InstanceList, Operation, Region, and the
``{"error": {"code", "message", "errors": [{"reason", ...}]}}`` error body), and the OAuth
2.0 JWT-bearer token exchange of a service account: it verifies the RS256 signature of the
assertion against the key's public half, as Google does. Every inserted Instance is checked
against the Instance schema of the compute v1 discovery document that googleapiclient ships
(Google's own description of the API): an unknown field, a wrong type or a value outside an
enum is the 400 "Invalid JSON payload" the API gives. Then the documented checks the
provider can get wrong: instance name syntax, label syntax, known zone, machine type and
image family. ``delete`` takes the instance away at the next request (as the real one does
within seconds).
"""

from __future__ import annotations

import base64
import functools
import glob
import json
import os
import re
import secrets
import time
from typing import Any
from urllib.parse import parse_qs

import googleapiclient
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from standin import Reply, Request, StandIn

_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
V1 = "/compute/v1/projects/([^/]+)"


def error(code: int, message: str, reason: str, status: str) -> Reply:
    return Reply(code, {"error": {"code": code, "message": message, "status": status,
                                  "errors": [{"message": message, "domain": "global",
                                              "reason": reason}]}})


@functools.cache
def discovery_schemas() -> dict[str, Any]:
    """The schemas of the compute v1 discovery document bundled with googleapiclient."""
    folder = os.path.join(os.path.dirname(googleapiclient.__file__), "discovery_cache",
                          "documents")
    [path] = glob.glob(os.path.join(folder, "compute.v1.json"))
    with open(path) as fh:
        return dict(json.load(fh)["schemas"])


_JSON_TYPES = {"string": str, "boolean": bool, "object": dict, "array": list,
               "integer": int, "number": (int, float)}


def schema_errors(value: Any, schema: dict[str, Any], where: str) -> list[str]:
    """Where ``value`` breaks a discovery-document schema (unknown fields included)."""
    if "$ref" in schema:
        schema = discovery_schemas()[schema["$ref"]]
    kind = schema.get("type", "object")
    if not isinstance(value, _JSON_TYPES[kind]) or (kind == "integer" and
                                                     isinstance(value, bool)):
        return [f"Invalid value at '{where}' ({kind}), {json.dumps(value)}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"Invalid value at '{where}' (enum), \"{value}\""]
    errors: list[str] = []
    if kind == "object":
        props, extra = schema.get("properties", {}), schema.get("additionalProperties")
        for key, item in value.items():
            if key in props:
                errors += schema_errors(item, props[key], f"{where}.{key}")
            elif extra is not None:
                errors += schema_errors(item, extra, f"{where}.{key}")
            else:
                errors.append(f"Unknown name \"{key}\" at '{where}': Cannot find field.")
    elif kind == "array":
        for i, item in enumerate(value):
            errors += schema_errors(item, schema["items"], f"{where}[{i}]")
    return errors


def _b64(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


class ComputeEngineAPI(StandIn):
    """One project's zones, images and instances, behind OAuth 2.0 bearer tokens."""

    def __init__(self, project: str, public_key: rsa.RSAPublicKey) -> None:
        super().__init__()
        self.project, self.public_key = project, public_key
        self.regions = {"us-central1": ["us-central1-b", "us-central1-a", "us-central1-c"]}
        self.machine_types = {"n1-standard-1", "e2-standard-4"}
        self.image_families = {("debian-cloud", "debian-12")}
        self.instances: dict[str, dict[str, Any]] = {}
        self.operations: dict[str, dict[str, Any]] = {}
        self.tokens: set[str] = set()
        #: an instance quota: inserts beyond it fail with quotaExceeded
        self.max_instances: int | None = None
        #: inserts are accepted, then their operation fails with this error code
        self.async_failure: str | None = None
        self.deleting: set[str] = set()
        self.route("POST", "/token", self.token)
        self.route("GET", V1 + r"/regions/([^/]+)", self.get_region)
        self.route("POST", V1 + r"/zones/([^/]+)/instances", self.insert)
        self.route("GET", V1 + r"/zones/([^/]+)/instances", self.list)
        self.route("DELETE", V1 + r"/zones/([^/]+)/instances/([^/]+)", self.delete)
        self.route("GET", V1 + r"/zones/([^/]+)/operations/([^/]+)", self.get_operation)

    @property
    def api_endpoint(self) -> str:
        return f"{self.url}/compute/v1/"

    def _link(self, path: str) -> str:
        return f"{self.url}/compute/v1/projects/{self.project}/{path}"

    # -- OAuth 2.0 ------------------------------------------------------------------------
    def token(self, req: Request) -> Reply:
        form = parse_qs(req.raw.decode())
        assertion = form.get("assertion", [""])[0]
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
            return Reply(400, {"error": "unsupported_grant_type"})
        try:
            head, payload, sig = assertion.split(".")
            self.public_key.verify(_b64(sig), f"{head}.{payload}".encode(),
                                   padding.PKCS1v15(), hashes.SHA256())
            claims = json.loads(_b64(payload))
        except Exception:
            return Reply(400, {"error": "invalid_grant",
                               "error_description": "Invalid JWT Signature."})
        if claims.get("exp", 0) < time.time():
            return Reply(400, {"error": "invalid_grant", "error_description": "Invalid JWT: "
                               "Token must be a short-lived token"})
        token = f"ya29.{secrets.token_urlsafe(16)}"
        self.tokens.add(token)
        return Reply(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    def _authorized(self, req: Request, project: str) -> Reply | None:
        self._finish_deletions()
        auth = req.headers.get("authorization", "")
        if auth.removeprefix("Bearer ") not in self.tokens:
            return error(401, "Request is missing required authentication credential. "
                         "Expected OAuth 2 access token, login cookie or other valid "
                         "authentication credential.", "required", "UNAUTHENTICATED")
        if project != self.project:
            return error(404, f"The resource 'projects/{project}' was not found", "notFound",
                         "NOT_FOUND")
        return None

    def _finish_deletions(self) -> None:
        with self.lock:
            for name in self.deleting:
                self.instances.pop(name, None)
            self.deleting.clear()

    # -- Compute Engine ---------------------------------------------------------------------
    def get_region(self, req: Request, project: str, region: str) -> Reply:
        if (denied := self._authorized(req, project)) is not None:
            return denied
        if region not in self.regions:
            return error(404, f"The resource 'projects/{project}/regions/{region}' was not "
                         "found", "notFound", "NOT_FOUND")
        return Reply(200, {"kind": "compute#region", "name": region, "status": "UP",
                           "zones": [self._link(f"zones/{z}") for z in self.regions[region]],
                           "selfLink": self._link(f"regions/{region}")})

    def _operation(self, zone: str, kind: str, target: str,
                   err: str | None = None) -> dict[str, Any]:
        name = f"operation-{secrets.token_hex(8)}"
        op: dict[str, Any] = {
            "kind": "compute#operation", "id": str(secrets.randbits(60)), "name": name,
            "zone": self._link(f"zones/{zone}"), "operationType": kind,
            "targetLink": self._link(f"zones/{zone}/instances/{target}"),
            "status": "DONE" if err else "RUNNING", "progress": 100 if err else 0,
            "insertTime": time.strftime("%Y-%m-%dT%H:%M:%S.000-00:00"),
            "selfLink": self._link(f"zones/{zone}/operations/{name}")}
        if err:
            op["error"] = {"errors": [{"code": err, "message": f"The zone 'projects/"
                                       f"{self.project}/zones/{zone}' does not have enough "
                                       "resources available to fulfill the request. Try a "
                                       "different zone, or try again later."}]}
        with self.lock:
            self.operations[name] = op
        return op

    def _zone_known(self, zone: str) -> bool:
        return any(zone in zones for zones in self.regions.values())

    def insert(self, req: Request, project: str, zone: str) -> Reply:
        if (denied := self._authorized(req, project)) is not None:
            return denied
        body = req.body
        name = body.get("name", "")
        if problems := schema_errors(body, {"$ref": "Instance"}, "resource"):
            return error(400, f"Invalid JSON payload received. {problems[0]}", "invalid",
                         "INVALID_ARGUMENT")
        if not self._zone_known(zone):
            return error(404, f"The resource 'projects/{project}/zones/{zone}' was not found",
                         "notFound", "NOT_FOUND")
        if not _NAME.match(name) or len(name) > 63:
            return error(400, f"Invalid value for field 'resource.name': '{name}'. Must be a "
                         "match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?|[1-9][0-9]"
                         "{0,19})'", "invalid", "INVALID_ARGUMENT")
        for key, value in (body.get("labels") or {}).items():
            if not _LABEL_KEY.match(key) or not _LABEL_VALUE.match(value):
                return error(400, f"Invalid value for field 'resource.labels': '{key}'. "
                             "Label keys and values must be lowercase.", "invalid",
                             "INVALID_ARGUMENT")
        mtype = body.get("machineType", "").rsplit("/", 1)[-1]
        if mtype not in self.machine_types:
            return error(404, f"The resource 'projects/{project}/zones/{zone}/machineTypes/"
                         f"{mtype}' was not found", "notFound", "NOT_FOUND")
        image = body["disks"][0]["initializeParams"]["sourceImage"]
        match = re.match(r"projects/([^/]+)/global/images/family/([^/]+)$", image)
        if match is None or match.groups() not in self.image_families:
            return error(404, f"The resource '{image}' was not found", "notFound", "NOT_FOUND")
        with self.lock:
            if name in self.instances:
                return error(409, f"The resource 'projects/{project}/zones/{zone}/instances/"
                             f"{name}' already exists", "alreadyExists", "ALREADY_EXISTS")
            if self.max_instances is not None and len(self.instances) >= self.max_instances:
                return error(403, "Quota 'INSTANCES' exceeded.  Limit: "
                             f"{self.max_instances}.0 in region us-central1.",
                             "quotaExceeded", "PERMISSION_DENIED")
        if self.async_failure:
            return Reply(200, self._operation(zone, "insert", name, self.async_failure))
        stored = {**body, "kind": "compute#instance", "id": str(secrets.randbits(60)),
                  "status": "PROVISIONING", "zone": self._link(f"zones/{zone}"),
                  "creationTimestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000-00:00"),
                  "selfLink": self._link(f"zones/{zone}/instances/{name}")}
        with self.lock:
            self.instances[name] = stored
        return Reply(200, self._operation(zone, "insert", name))

    def list(self, req: Request, project: str, zone: str) -> Reply:
        if (denied := self._authorized(req, project)) is not None:
            return denied
        term = (req.query.get("filter") or [""])[0]
        match = re.match(r"^labels\.([a-z0-9_-]+)\s*=\s*\"?([a-z0-9_-]*)\"?$", term)
        with self.lock:
            items = [i for i in self.instances.values() if i["zone"].endswith(f"/{zone}")
                     and (match is None or i.get("labels", {}).get(match[1]) == match[2])]
        reply = {"kind": "compute#instanceList", "id": f"projects/{project}/zones/{zone}/"
                 "instances", "selfLink": self._link(f"zones/{zone}/instances")}
        if items:
            reply["items"] = items  # the API omits "items" when there are none
        return Reply(200, reply)

    def delete(self, req: Request, project: str, zone: str, name: str) -> Reply:
        if (denied := self._authorized(req, project)) is not None:
            return denied
        with self.lock:
            if name not in self.instances:
                return error(404, f"The resource 'projects/{project}/zones/{zone}/instances/"
                             f"{name}' was not found", "notFound", "NOT_FOUND")
            self.instances[name]["status"] = "STOPPING"
            self.deleting.add(name)
        return Reply(200, self._operation(zone, "delete", name))

    def get_operation(self, req: Request, project: str, zone: str, name: str) -> Reply:
        if (denied := self._authorized(req, project)) is not None:
            return denied
        with self.lock:
            op = self.operations.get(name)
        if op is None:
            return error(404, f"The resource 'projects/{project}/zones/{zone}/operations/"
                         f"{name}' was not found", "notFound", "NOT_FOUND")
        return Reply(200, op)

    def set_status(self, name: str, status: str) -> None:
        with self.lock:
            self.instances[name]["status"] = status
