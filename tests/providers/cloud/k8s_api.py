"""Stand-in for the Kubernetes API server's core/v1 pods endpoints.

No Kubernetes API server installs on these machines (Debian 12 ships only kubectl and client
libraries; kube-apiserver is in no package PyPI or Debian offers), so this serves replies
shaped as the Kubernetes API reference documents them: Pod and PodList objects, and Status
objects for errors (400 BadRequest, 401 Unauthorized, 403 Forbidden for RBAC and for
ResourceQuota, 404 NotFound for a missing namespace, 409 AlreadyExists, 422 Invalid with
field causes). Every created pod is first checked against the official Pod schema of
Kubernetes 1.37 (the OpenAPI-derived JSON schemas that kubernetes-validate ships): a wrong
type is a 400 as from the API server, and an unknown field is accepted with a Warning header
as under the server's default fieldValidation=Warn, and recorded in ``warnings``. Then the
documented create-time validation the provider can get wrong: RFC 1123 names, label syntax,
resource quantities, requests not above limits, volume mounts.
The test moves pods through phases as the kubelet would (``set_phase``), or lets the
stand-in's "kubelet" run each pod's container command as a local process (``run_pods``:
the image is ignored), so a whole workflow runs through the provider.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import uuid
from datetime import datetime, timezone
from typing import Any

import kubernetes_validate
from standin import Reply, Request, StandIn

KUBERNETES_VERSION = "1.37.0"

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_QUANTITY = re.compile(r"^([0-9]+(\.[0-9]*)?|\.[0-9]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|e[0-9]+)?$")
_SUFFIX = {"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
           "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_RESTART = {"Always", "OnFailure", "Never"}


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def status(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> Reply:
    """A meta/v1 Status object, as the API server sends with every error."""
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {},
                            "status": "Failure", "message": message, "reason": reason,
                            "code": code}
    if details is not None:
        body["details"] = details
    return Reply(code, body)


def quantity(text: str) -> float:
    match = _QUANTITY.match(text)
    assert match is not None
    suffix = match.group(3) or ""
    if suffix.startswith("e"):
        return float(match.group(1)) * 10 ** int(suffix[1:])
    return float(match.group(1)) * _SUFFIX[suffix]


class KubernetesAPI(StandIn):
    """Pods in namespaces, behind bearer-token authentication."""

    def __init__(self, tokens: dict[str, str], namespaces: set[str]) -> None:
        super().__init__()
        #: token -> user; a user named "viewer" may only read (RBAC)
        self.tokens = tokens
        self.namespaces = set(namespaces)
        self.pods: dict[tuple[str, str], dict[str, Any]] = {}
        #: namespace -> max pods (a ResourceQuota with hard pods=N)
        self.pod_quota: dict[str, int] = {}
        #: the kubelet stops a deleted pod before the next request (else: finish_deletions)
        self.kubelet_is_quick = True
        #: run each pod's container command here, in its own session, with this environment
        self.run_pods: dict[str, str] | None = None
        self.processes: dict[tuple[str, str], subprocess.Popen[bytes]] = {}
        #: unknown fields the API server would have dropped (with a Warning header)
        self.warnings: list[str] = []
        base = r"/api/v1/namespaces/([^/]+)/pods"
        self.route("POST", base, self.create)
        self.route("GET", base, self.list)
        self.route("DELETE", base, self.delete_collection)
        self.route("GET", base + r"/([^/]+)", self.read)
        self.route("DELETE", base + r"/([^/]+)", self.delete)

    # -- what the kubelet and controllers would do ------------------------------------------
    def set_phase(self, namespace: str, name: str, phase: str, **status_fields: Any) -> None:
        with self.lock:
            pod = self.pods[(namespace, name)]
            pod["status"] = {**pod["status"], "phase": phase, **status_fields}

    def finish_deletions(self) -> None:
        """The kubelet has stopped every terminating pod: they leave the API."""
        with self.lock:
            for key in [k for k, p in self.pods.items() if p["metadata"].get("deletionTimestamp")]:
                del self.pods[key]
                proc = self.processes.get(key)
                if proc is not None and proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGTERM)

    # -- the API -------------------------------------------------------------------------
    def _user(self, req: Request) -> str | Reply:
        if self.kubelet_is_quick:
            self.finish_deletions()
        auth = req.headers.get("authorization", "")
        user = self.tokens.get(auth.removeprefix("Bearer ").strip()) if auth else None
        if user is None:
            return status(401, "Unauthorized", "Unauthorized")
        return user

    def _forbidden(self, user: str, verb: str, namespace: str) -> Reply:
        return status(403, "Forbidden", f'pods is forbidden: User "{user}" cannot {verb} '
                      f'resource "pods" in API group "" in the namespace "{namespace}"',
                      {"kind": "pods"})

    def create(self, req: Request, namespace: str) -> Reply:
        user = self._user(req)
        if isinstance(user, Reply):
            return user
        if user == "viewer":
            return self._forbidden(user, "create", namespace)
        if namespace not in self.namespaces:
            return status(404, "NotFound", f'namespaces "{namespace}" not found',
                          {"name": namespace, "kind": "namespaces"})
        pod = req.body
        name = pod.get("metadata", {}).get("name", "")
        headers: dict[str, str] = {}
        schema_error = self.check_schema(pod)
        if schema_error is not None:
            return schema_error
        unknown = self.unknown_fields(pod)
        if unknown:
            self.warnings.extend(unknown)
            headers["Warning"] = ", ".join(f'299 - "unknown field \\"{f}\\""' for f in unknown)
        causes = self.validate(pod)
        if causes:
            text = "; ".join(f"{c['field']}: {c['message']}" for c in causes)
            return status(422, "Invalid", f'Pod "{name}" is invalid: {text}',
                          {"name": name, "kind": "Pod", "causes": causes})
        with self.lock:
            if (namespace, name) in self.pods:
                return status(409, "AlreadyExists", f'pods "{name}" already exists',
                              {"name": name, "kind": "pods"})
            used = sum(1 for ns, _ in self.pods if ns == namespace)
            limit = self.pod_quota.get(namespace)
            if limit is not None and used >= limit:
                return status(403, "Forbidden", f'pods "{name}" is forbidden: exceeded quota: '
                              f"compute-resources, requested: pods=1, used: pods={used}, "
                              f"limited: pods={limit}", {"name": name, "kind": "pods"})
            stored = self._stored(pod, namespace)
            self.pods[(namespace, name)] = stored
        if self.run_pods is not None:
            self._start_container(namespace, name, pod["spec"]["containers"][0])
        return Reply(201, stored, headers)

    @staticmethod
    def check_schema(pod: dict[str, Any]) -> Reply | None:
        """A 400, as the API server's decoder gives, if the pod breaks the Pod schema."""
        try:
            kubernetes_validate.validate(pod, KUBERNETES_VERSION, strict=False)
        except kubernetes_validate.ValidationError as exc:
            where = ".".join(str(p) for p in exc.path)
            return status(400, "BadRequest", f'Pod in version "v1" cannot be handled as a '
                          f"Pod: {where}: {exc.message}")
        return None

    @staticmethod
    def unknown_fields(pod: dict[str, Any]) -> list[str]:
        """Fields the Pod schema does not define (strict validation's complaints)."""
        try:
            kubernetes_validate.validate(pod, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            where = ".".join(str(p) for p in exc.path)
            return [f"{where}: {exc.message}"]
        return []

    def _start_container(self, namespace: str, name: str, container: dict[str, Any]) -> None:
        """The kubelet's part: run the container's command, report how it ends."""
        proc = subprocess.Popen(container["command"] + container.get("args", []),
                                env=self.run_pods, start_new_session=True,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        self.processes[(namespace, name)] = proc
        self.set_phase(namespace, name, "Running")

        def wait() -> None:
            code = proc.wait()
            with self.lock:
                pod = self.pods.get((namespace, name))
                if pod is None:
                    return
                pod["status"] = {**pod["status"], "phase": "Succeeded" if code == 0 else "Failed",
                                 "containerStatuses": [{
                                     "name": container["name"], "image": container["image"],
                                     "imageID": "", "ready": False, "restartCount": 0,
                                     "state": {"terminated": {"exitCode": code,
                                                              "reason": "Completed" if code == 0
                                                              else "Error"}}}]}

        threading.Thread(target=wait, name=f"kubelet-{name}", daemon=True).start()

    def stop_containers(self) -> None:
        """Kill every container process still running (the node goes away)."""
        for proc in self.processes.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def _stored(self, pod: dict[str, Any], namespace: str) -> dict[str, Any]:
        meta = {**pod["metadata"], "namespace": namespace, "uid": str(uuid.uuid4()),
                "resourceVersion": str(len(self.requests)), "creationTimestamp": _now()}
        spec = {"dnsPolicy": "ClusterFirst", "schedulerName": "default-scheduler",
                "terminationGracePeriodSeconds": 30, "securityContext": {},
                **pod["spec"]}
        return {"kind": "Pod", "apiVersion": "v1", "metadata": meta, "spec": spec,
                "status": {"phase": "Pending", "qosClass": "Burstable"}}

    def validate(self, pod: dict[str, Any]) -> list[dict[str, str]]:
        """The documented create-time checks, as StatusCause entries."""
        causes: list[dict[str, str]] = []

        def bad(field: str, message: str, reason: str = "FieldValueInvalid") -> None:
            causes.append({"reason": reason, "message": message, "field": field})

        meta, spec = pod.get("metadata", {}), pod.get("spec", {})
        name = meta.get("name", "")
        if not name:
            bad("metadata.name", "Required value: name or generateName is required",
                "FieldValueRequired")
        elif len(name) > 253 or not _SUBDOMAIN.match(name):
            bad("metadata.name", f'Invalid value: "{name}": a lowercase RFC 1123 subdomain '
                "must consist of lower case alphanumeric characters, '-' or '.'")
        for key, value in (meta.get("labels") or {}).items():
            if len(key) > 63 or not _LABEL_NAME.match(key.split("/")[-1]):
                bad("metadata.labels", f'Invalid value: "{key}": name part must consist of '
                    "alphanumeric characters, '-', '_' or '.'")
            if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.match(value):
                bad("metadata.labels", f'Invalid value: "{value}": a valid label must be an '
                    "empty string or consist of alphanumeric characters, '-', '_' or '.'")
        if spec.get("restartPolicy", "Always") not in _RESTART:
            bad("spec.restartPolicy", "Unsupported value", "FieldValueNotSupported")
        containers = spec.get("containers") or []
        if not containers:
            bad("spec.containers", "Required value", "FieldValueRequired")
        for i, c in enumerate(containers):
            self._validate_container(c, f"spec.containers[{i}]", bad)
        claims = {v.get("name") for v in spec.get("volumes") or []}
        for i, c in enumerate(containers):
            for j, m in enumerate(c.get("volumeMounts") or []):
                if m.get("name") not in claims:
                    bad(f"spec.containers[{i}].volumeMounts[{j}].name",
                        f'Not found: "{m.get("name")}"', "FieldValueNotFound")
        return causes

    @staticmethod
    def _validate_container(c: dict[str, Any], where: str, bad: Any) -> None:
        if not c.get("name") or not _LABEL_NAME.match(c["name"]):
            bad(f"{where}.name", f'Invalid value: "{c.get("name")}"')
        if not c.get("image"):
            bad(f"{where}.image", "Required value", "FieldValueRequired")
        resources = c.get("resources") or {}
        for kind in ("limits", "requests"):
            for res, value in (resources.get(kind) or {}).items():
                if not isinstance(value, str) or not _QUANTITY.match(value):
                    bad(f"{where}.resources.{kind}[{res}]", f'Invalid value: "{value}": '
                        "quantities must match the regular expression "
                        "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
        limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
        for res, want in requests.items():
            if (res in limits and _QUANTITY.match(str(want)) and _QUANTITY.match(str(limits[res]))
                    and quantity(want) > quantity(limits[res])):
                bad(f"{where}.resources.requests", f'Invalid value: "{want}": must be less '
                    f"than or equal to {res} limit of {limits[res]}")

    def _selected(self, req: Request, namespace: str) -> list[dict[str, Any]]:
        selector = (req.query.get("labelSelector") or [""])[0]
        wanted = dict(term.split("=", 1) for term in selector.split(",") if term)
        with self.lock:
            return [p for (ns, _), p in self.pods.items() if ns == namespace
                    and all(p["metadata"].get("labels", {}).get(k) == v
                            for k, v in wanted.items())]

    def list(self, req: Request, namespace: str) -> Reply:
        user = self._user(req)
        if isinstance(user, Reply):
            return user
        items = [{k: v for k, v in p.items() if k not in ("kind", "apiVersion")}
                 for p in self._selected(req, namespace)]
        return Reply(200, {"kind": "PodList", "apiVersion": "v1",
                           "metadata": {"resourceVersion": str(len(self.requests))},
                           "items": items})

    def read(self, req: Request, namespace: str, name: str) -> Reply:
        user = self._user(req)
        if isinstance(user, Reply):
            return user
        with self.lock:
            pod = self.pods.get((namespace, name))
        if pod is None:
            return status(404, "NotFound", f'pods "{name}" not found',
                          {"name": name, "kind": "pods"})
        return Reply(200, pod)

    def delete(self, req: Request, namespace: str, name: str) -> Reply:
        user = self._user(req)
        if isinstance(user, Reply):
            return user
        if user == "viewer":
            return self._forbidden(user, "delete", namespace)
        with self.lock:
            pod = self.pods.get((namespace, name))
            if pod is None:
                return status(404, "NotFound", f'pods "{name}" not found',
                              {"name": name, "kind": "pods"})
            pod["metadata"]["deletionTimestamp"] = _now()
            pod["metadata"]["deletionGracePeriodSeconds"] = 30
        return Reply(200, pod)

    def delete_collection(self, req: Request, namespace: str) -> Reply:
        user = self._user(req)
        if isinstance(user, Reply):
            return user
        chosen = self._selected(req, namespace)
        with self.lock:
            for pod in chosen:
                pod["metadata"]["deletionTimestamp"] = _now()
        return Reply(200, {"kind": "PodList", "apiVersion": "v1", "metadata": {},
                           "items": chosen})
