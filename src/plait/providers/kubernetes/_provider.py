"""KubernetesProvider: each block is one pod whose container runs the worker pool.

    submit() ─create_namespaced_pod(labels plait-run/plait-provider/plait-job)─▶ API server
    status() ─list_namespaced_pod(labelSelector=plait-run=<run id>)─▶ one call for all blocks
    cancel() ─delete_namespaced_pod─▶ API server; cleanup() also deletes untracked labelled pods

Pods that ended are kept (for ``kubectl logs``) until cancel or cleanup deletes them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from typing import Any

from plait._validate import check_bool, check_number, fail, is_int
from plait.providers._cloud import (
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
from plait.providers._cluster import walltime_to_seconds, worker_init_lines
from plait.providers._jobs import JobState, JobStatus

log = logging.getLogger(__name__)

#: Pod phases (the API reference's PodStatus.phase); Failed is resolved in _failed().
PHASES = {
    "Pending": JobState.PENDING,
    "Running": JobState.RUNNING,
    "Succeeded": JobState.COMPLETED,
    "Unknown": JobState.UNKNOWN,  # the node stopped reporting; the pod may still run
}
#: Container "waiting" reasons that never resolve by themselves: the block has failed.
STUCK = {
    "ImagePullBackOff": "the image cannot be pulled: check image= and, for a private "
                        "registry, secret= (an imagePullSecret in the namespace)",
    "InvalidImageName": "the image name is not valid: check image=",
    "ErrImageNeverPull": "the image is not on the node and imagePullPolicy is Never",
    "CreateContainerConfigError": "the container's configuration refers to something "
                                  "missing (a secret or config map)",
    "CreateContainerError": "the container runtime could not create the container",
}

_STATUS_KINDS: dict[int, Kind] = {401: "credentials", 403: "permission", 404: "not_found",
                                  409: "invalid", 422: "invalid"}


class KubernetesProvider(CloudProvider):
    """Blocks as pods on a Kubernetes cluster (Parsl's ``KubernetesProvider``).

    Args:
        image: container image with Python and plait (the worker pool) installed.
        namespace: where pods are created (default ``"default"``).
        max_cpu, max_mem: the container's limits (cpu units, e.g. 2; memory, e.g. "500Mi").
        init_cpu, init_mem: its requests.
        extra_requests, extra_limits: more resources, e.g. ``{"nvidia.com/gpu": "1"}``.
        worker_init: shell lines run in the container before the workers (a failure ends
            the pod as Failed, with the reason in its log).
        pod_name: the pods' name prefix (default: from the block name).
        user_id, group_id, run_as_non_root: the container's security context.
        secret: an imagePullSecret name.
        persistent_volumes: ``[(claim name, mount path), ...]`` to mount.
        service_account_name: the pods' service account.
        annotations: annotations for every pod.
        config_file, context: kube config to use (default: ``$KUBECONFIG`` or
            ``~/.kube/config``, then the in-cluster service account).
        walltime: ``"HH:MM:SS"``: the pod's activeDeadlineSeconds (ends as TIMEOUT).
        labels: more labels for every pod.
        request_timeout: seconds any API call may take.

    Differences from Parsl: a pod whose image cannot be pulled fails its block (Parsl waits
    forever); names are valid DNS names whatever the label; nodes_per_block must be 1.
    """

    extra = "kubernetes"
    delete_ended = False

    def __init__(
        self, image: str, namespace: str = "default", nodes_per_block: int = 1,
        init_blocks: int = 4, min_blocks: int = 0, max_blocks: int = 10,
        max_cpu: float = 2, max_mem: str = "500Mi", init_cpu: float = 1,
        init_mem: str = "250Mi", extra_requests: dict[str, str] | None = None,
        extra_limits: dict[str, str] | None = None, parallelism: float = 1,
        worker_init: str = "", pod_name: str | None = None, user_id: str | None = None,
        group_id: str | None = None, run_as_non_root: bool = False, secret: str | None = None,
        persistent_volumes: list[tuple[str, str]] | None = None,
        service_account_name: str | None = None, annotations: dict[str, str] | None = None,
        *, config_file: str | None = None, context: str | None = None,
        walltime: str | None = None, labels: dict[str, str] | None = None,
        request_timeout: float = 30, label: str = "kubernetes",
    ) -> None:
        (self._k8s,) = load_sdk("KubernetesProvider", "kubernetes", "kubernetes")
        self.image, self.namespace = image, namespace
        self.max_cpu, self.max_mem, self.init_cpu, self.init_mem = (
            max_cpu, max_mem, init_cpu, init_mem)
        self.extra_requests = or_empty(extra_requests, {})
        self.extra_limits = or_empty(extra_limits, {})
        self.pod_name, self.user_id, self.group_id = pod_name, user_id, group_id
        self.run_as_non_root, self.secret = run_as_non_root, secret
        self.persistent_volumes = or_empty(persistent_volumes, [])
        self.service_account_name = service_account_name
        self.annotations = or_empty(annotations, {})
        self.config_file, self.context = config_file, context
        self.extra_labels = or_empty(labels, {})
        self.request_timeout = request_timeout
        super().__init__(
            label=label, init_blocks=init_blocks, min_blocks=min_blocks,
            max_blocks=max_blocks, nodes_per_block=nodes_per_block, parallelism=parallelism,
            worker_init=worker_init, launcher=None, walltime=walltime, linger=False)
        self._core: Any = None

    def validate(self) -> None:
        super().validate()
        name = "KubernetesProvider"
        check_strs(name, ("image", self.image), ("namespace", self.namespace),
                   ("max_mem", self.max_mem), ("init_mem", self.init_mem))
        check_strs(name, ("pod_name", self.pod_name), ("secret", self.secret),
                   ("service_account_name", self.service_account_name),
                   ("config_file", self.config_file), ("context", self.context), none=True)
        for field in ("max_cpu", "init_cpu"):
            check_number(field, getattr(self, field), low=0, strict=True, owner=name,
                         kind="a number of cpu units, e.g. 0.5,")
        if self.init_cpu > self.max_cpu:
            raise fail("init_cpu", self.init_cpu, f"at most max_cpu={self.max_cpu}", name,
                       "Requests may not exceed limits.")
        for field in ("user_id", "group_id"):
            value = getattr(self, field)
            if value is not None and not (is_int(value) or (isinstance(value, str)
                                                            and value.isdigit())):
                raise fail(field, value, "a numeric uid/gid such as '1000', or None", name)
        check_bool("run_as_non_root", self.run_as_non_root, owner=name)
        for field, mapping in (("extra_requests", self.extra_requests),
                               ("extra_limits", self.extra_limits),
                               ("annotations", self.annotations),
                               ("labels", self.extra_labels)):
            check_str_map(field, mapping, name)
        pairs = self.persistent_volumes
        if not isinstance(pairs, (list, tuple)) or not all(
                isinstance(p, (list, tuple)) and len(p) == 2
                and all(isinstance(x, str) for x in p) for p in pairs):
            raise fail("persistent_volumes", pairs,
                       "a list of (claim name, mount path) pairs of strings", name)
        check_number("request_timeout", self.request_timeout, low=0, strict=True,
                     owner=name, kind="a number of seconds")

    # -- connection ------------------------------------------------------------------------
    def _connect(self) -> None:
        config = self._k8s.config
        # The client reads $KUBECONFIG once, when it is imported; read it now instead.
        files = self.config_file or os.environ.get("KUBECONFIG") or "~/.kube/config"
        try:
            api = config.new_client_from_config(config_file=files, context=self.context,
                                                persist_config=False)
        except config.ConfigException as exc:
            if self.config_file is not None or self.context is not None:
                raise CloudAPIError(self.label, "loading the kube config", "credentials",
                                    str(exc), f"check config_file={self.config_file!r} and "
                                    f"context={self.context!r}") from exc
            api = self._in_cluster(exc)
        self._core = self._k8s.client.CoreV1Api(api)

    def _in_cluster(self, first: Exception) -> Any:
        cfg = self._k8s.client.Configuration()
        try:
            self._k8s.config.load_incluster_config(client_configuration=cfg)
        except self._k8s.config.ConfigException as exc:
            raise CloudAPIError(
                self.label, "loading the kube config", "credentials",
                f"{first}; and not inside a cluster: {exc}",
                "point KUBECONFIG (or config_file=) at a kube config, e.g. the one "
                "`gcloud container clusters get-credentials` or `aws eks update-kubeconfig` "
                "writes") from exc
        return self._k8s.client.ApiClient(cfg)

    @contextlib.contextmanager
    def _api(self, operation: str) -> Iterator[None]:
        """Turn the client's exceptions into CloudAPIError naming ``operation`` and the fix."""
        try:
            yield
        except self._k8s.client.exceptions.ApiException as exc:
            raise self._classify(operation, exc) from exc
        except Exception as exc:  # urllib3: refused, timed out, TLS, DNS
            if "urllib3" not in type(exc).__module__:
                raise
            host = self._core.api_client.configuration.host if self._core else "?"
            raise CloudAPIError(self.label, operation, "unreachable",
                                f"{type(exc).__name__}: {exc}",
                                f"cannot reach the Kubernetes API at {host}: check the kube "
                                "config's cluster and context") from exc

    def _classify(self, operation: str, exc: Any) -> CloudAPIError:
        code = int(getattr(exc, "status", 0) or 0)
        try:
            body = json.loads(exc.body or "{}")
        except ValueError:
            body = {}
        message = body.get("message") or exc.reason or str(exc)
        reason = body.get("reason", "")
        kind: Kind = _STATUS_KINDS.get(code, "other")
        hint = None
        if code == 401:
            hint = ("the cluster rejected the kube config's credentials: refresh them "
                    "(tokens and cloud logins expire) or pick another context=")
        elif code == 403 and "exceeded quota" in message:
            kind, hint = "quota", (f"namespace {self.namespace}'s ResourceQuota is full: "
                                   "lower max_blocks or the pods' requests, or raise the quota")
        elif code == 403:
            hint = (f"the kube config's user may not do this in namespace {self.namespace}: "
                    "it needs a Role allowing create, list and delete on pods")
        elif code == 404 and "namespaces" in message:
            kind, hint = "namespace", (f"namespace {self.namespace!r} does not exist: "
                                       f"kubectl create namespace {self.namespace}, or set "
                                       "namespace=")
        return CloudAPIError(self.label, operation, kind, f"{code} {reason}: {message}",
                             hint, str(code))

    # -- the pod -----------------------------------------------------------------------------
    def job_script(self, command: str, tasks_per_node: int, job_name: str) -> str:
        """The container's shell script: worker_init, then the worker command."""
        return (f"{worker_init_lines(self.worker_init)}"
                f"export JOBNAME={json.dumps(job_name)}\nexec {command}\n")

    def pod_manifest(self, name: str, command: str, tags: dict[str, str]) -> dict[str, Any]:
        """The Pod object a block is created from (what ``submit`` sends)."""
        resources = {
            "limits": {"cpu": str(self.max_cpu), "memory": self.max_mem,
                       **self.extra_limits},
            "requests": {"cpu": str(self.init_cpu), "memory": self.init_mem,
                         **self.extra_requests},
        }
        container: dict[str, Any] = {
            "name": "worker", "image": self.image,
            "command": ["/bin/bash", "-c"], "args": [self.job_script(command, 1, name)],
            "resources": resources,
        }
        security: dict[str, int | bool] = {
            k: int(v) for k, v in (("runAsUser", self.user_id), ("runAsGroup", self.group_id))
            if v is not None}
        if self.run_as_non_root:
            security["runAsNonRoot"] = True
        if security:
            container["securityContext"] = security
        volumes = [{"name": f"volume-{i}", "persistentVolumeClaim": {"claimName": claim}}
                   for i, (claim, _) in enumerate(self.persistent_volumes)]
        if volumes:
            container["volumeMounts"] = [{"name": f"volume-{i}", "mountPath": path}
                                         for i, (_, path) in enumerate(self.persistent_volumes)]
        spec: dict[str, Any] = {"restartPolicy": "Never", "containers": [container]}
        if volumes:
            spec["volumes"] = volumes
        if self.secret:
            spec["imagePullSecrets"] = [{"name": self.secret}]
        if self.service_account_name:
            spec["serviceAccountName"] = self.service_account_name
        if self.walltime is not None:
            spec["activeDeadlineSeconds"] = walltime_to_seconds(self.walltime)
        metadata: dict[str, Any] = {"name": name, "labels": {**self.extra_labels, **tags}}
        if self.annotations:
            metadata["annotations"] = dict(self.annotations)
        return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}

    def _new_name(self, job_name: str) -> str:
        return super()._new_name(slug(self.pod_name) if self.pod_name else job_name)

    def _create(self, name: str, command: str, tasks_per_node: int,
                tags: dict[str, str]) -> str:
        with self._api(f"creating pod {name} in namespace {self.namespace}"):
            pod = self._core.create_namespaced_pod(
                self.namespace, self.pod_manifest(name, command, tags),
                _request_timeout=self.request_timeout)
        return str(pod.metadata.name)

    def _run_pods(self) -> list[Any]:
        with self._api(f"listing pods in namespace {self.namespace}"):
            reply = self._core.list_namespaced_pod(
                self.namespace, label_selector=f"{TAG_RUN}={self.run_id}",
                _request_timeout=self.request_timeout)
        return list(reply.items)

    def _observe(self, job_ids: list[str]) -> dict[str, Observed]:
        wanted = set(job_ids)
        return {p.metadata.name: self._observed(p) for p in self._run_pods()
                if p.metadata.name in wanted}

    def _observed(self, pod: Any) -> Observed:
        name, st = pod.metadata.name, pod.status
        if pod.metadata.deletion_timestamp is not None:
            return Observed(JobStatus(JobState.CANCELLED, f"pod {name} is being deleted"))
        phase = (st.phase if st else None) or "Pending"
        if phase == "Failed":
            return Observed(self._failed(pod))
        state = map_state(self.label, phase, PHASES)
        if state is JobState.PENDING:
            return Observed(self._pending(pod))
        if state is JobState.COMPLETED:
            return Observed(JobStatus(JobState.COMPLETED, f"pod {name} succeeded", 0))
        return Observed(JobStatus(state))

    def _pending(self, pod: Any) -> JobStatus:
        name = pod.metadata.name
        for cs in (pod.status.container_statuses or []) if pod.status else []:
            waiting = cs.state.waiting if cs.state else None
            if waiting is not None and waiting.reason in STUCK:
                return JobStatus(JobState.FAILED, f"pod {name} cannot start: {waiting.reason}: "
                                 f"{waiting.message or ''} ({STUCK[waiting.reason]})")
        for cond in (pod.status.conditions or []) if pod.status else []:
            if cond.type == "PodScheduled" and cond.status == "False" and cond.message:
                return JobStatus(JobState.PENDING, f"pod {name} is not scheduled yet: "
                                 f"{cond.message}")
        return JobStatus(JobState.PENDING)

    def _failed(self, pod: Any) -> JobStatus:
        name, st = pod.metadata.name, pod.status
        if st.reason == "DeadlineExceeded":
            return JobStatus(JobState.TIMEOUT, f"pod {name} reached its walltime "
                             f"{self.walltime} (activeDeadlineSeconds)")
        term = None
        for cs in st.container_statuses or []:
            if cs.state and cs.state.terminated:
                term = cs.state.terminated
        code = term.exit_code if term is not None else None
        if term is not None and term.reason == "OOMKilled":
            return JobStatus(JobState.FAILED, f"pod {name}: the worker ran out of memory "
                             f"(OOMKilled at max_mem={self.max_mem}): raise max_mem", code)
        if code == 127:
            return JobStatus(JobState.FAILED, f"pod {name}: the worker command was not found "
                             f"in image {self.image} (exit code 127): install plait in the "
                             "image, or add it in worker_init", code)
        why = st.reason or (term.reason if term is not None else None) or "Failed"
        detail = st.message or (term.message if term is not None else None) or ""
        return JobStatus(JobState.FAILED, f"pod {name} failed: {why} {detail}".strip()
                         + (f" (exit code {code}); kubectl logs {name} -n {self.namespace}"
                            if code is not None else ""), code)

    def _delete_one(self, job_id: str) -> None:
        with self._api(f"deleting pod {job_id}"):
            self._core.delete_namespaced_pod(job_id, self.namespace,
                                             _request_timeout=self.request_timeout)

    def _list_tagged(self) -> list[str]:
        return [p.metadata.name for p in self._run_pods()]

    def __repr__(self) -> str:
        return (f"KubernetesProvider(image={self.image!r}, namespace={self.namespace!r}, "
                f"max_blocks={self.max_blocks}, max_cpu={self.max_cpu}, "
                f"max_mem={self.max_mem!r})")
