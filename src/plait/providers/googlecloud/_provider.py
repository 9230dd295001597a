"""GoogleCloudProvider: each block is one Compute Engine instance whose startup script
starts the workers.

    submit() ─instances.insert(labels, startup-script, maxRunDuration)─▶ Compute Engine API
             ─▶ an Operation, kept: its error (quota, zone exhausted) fails the block later
    status() ─instances.list(filter=labels.plait-run=<run id>)─▶ one call for every block
    cancel() ─instances.delete─▶ API; an instance that powered off is deleted the same way

With a walltime the instance also gets scheduling.maxRunDuration (walltime + 5 minutes) and
instanceTerminationAction=DELETE: Compute Engine itself deletes an instance whose script did
not end it, so a crashed plait leaves nothing running past its walltime.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

from plait._validate import check_bool, check_choice, check_int, fail
from plait.launchers import Launcher
from plait.providers._cloud import (
    TAG_RUN,
    CloudProvider,
    Observed,
    check_str_map,
    check_strs,
    load_sdk,
    map_state,
    or_empty,
)
from plait.providers._cloud_errors import CloudAPIError, Kind
from plait.providers._cluster import walltime_to_seconds
from plait.providers._jobs import JobState, JobStatus

log = logging.getLogger(__name__)

SCOPES = ["https://www.googleapis.com/auth/compute"]
#: Instance.status values (the enum of the v1 discovery document). STOPPING, PENDING_STOP,
#: STOPPED and TERMINATED (powered off) end the block; DEPROVISIONING is a deletion.
STATES = {
    "PENDING": JobState.PENDING,  # Flex Start: waiting for capacity
    "PROVISIONING": JobState.PENDING,
    "STAGING": JobState.PENDING,
    "RUNNING": JobState.RUNNING,
    "REPAIRING": JobState.HELD,
    "SUSPENDING": JobState.HELD,
    "SUSPENDED": JobState.HELD,
}
_POWERED_OFF = frozenset({"STOPPING", "PENDING_STOP", "STOPPED", "TERMINATED"})
#: after the walltime, Compute Engine deletes an instance the boot script did not stop
_RUN_DURATION_MARGIN = 300

_REASONS: dict[str, Kind] = {
    "quotaExceeded": "quota", "rateLimitExceeded": "quota", "userRateLimitExceeded": "quota",
    "QUOTA_EXCEEDED": "quota", "ZONE_RESOURCE_POOL_EXHAUSTED": "quota",
    "ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS": "quota",
    "forbidden": "permission", "accessNotConfigured": "permission",
    "authError": "credentials", "required": "credentials",
    "invalid": "invalid", "badRequest": "invalid", "alreadyExists": "invalid",
}
_NOT_FOUND: list[tuple[str, Kind, str]] = [
    ("/images/", "image", "check os_project and os_family (gcloud compute images list "
     "--project <os_project>)"),
    ("/machineTypes/", "flavor", "gcloud compute machine-types list --zones <zone> lists "
     "the offered instance_type names"),
    ("/zones/", "region", "check region (or zone): gcloud compute zones list"),
    ("/regions/", "region", "check region: gcloud compute regions list"),
    ("/networks/", "network", "check network= (gcloud compute networks list)"),
    ("/subnetworks/", "network", "check subnetwork="),
    ("projects/", "not_found", "check project_id and that the Compute Engine API is "
     "enabled for it"),
]
_ZONE = re.compile(r"^[a-z]+-[a-z]+\d+-[a-z]$")
#: retries, with backoff, on 5xx, 429 and connection errors. Every call is safe to repeat:
#: block names are unique, so a repeated insert can only answer alreadyExists (see _create)
_RETRIES = 3


class GoogleCloudProvider(CloudProvider):
    """Blocks on Google Compute Engine instances (Parsl's ``GoogleCloudProvider``).

    Args:
        project_id: the Google Cloud project.
        key_file: a service account key (JSON); None uses Application Default Credentials.
        region: a region (the first of its zones is used) or a zone.
        os_project, os_family: the boot image family, e.g. ``"debian-cloud"``,
            ``"debian-12"`` (the image needs Python and plait, or install them in
            worker_init).
        google_version: API version, ``"v1"`` or ``"beta"``.
        instance_type: machine type (default ``n1-standard-1``).
        zone: a zone; overrides ``region``.
        worker_init, walltime, linger, launcher: as for the other cloud providers.
        network, subnetwork: where the instance's interface goes (default: the default
            network), with an external address unless ``external_ip=False``.
        preemptible: a Spot VM, deleted when Compute Engine reclaims it.
        disk_size_gb: boot disk size (default: the image's).
        labels: more labels for every instance.
        api_endpoint: the Compute Engine API root, for private endpoints.

    Differences from Parsl: the constructor makes no network call; an instance that powers
    off (its workers ended, or its walltime passed) is deleted, not kept stopped.
    """

    extra = "googlecloud"

    def __init__(
        self, project_id: str, key_file: str | None, region: str, os_project: str,
        os_family: str, google_version: str = "v1", instance_type: str = "n1-standard-1",
        init_blocks: int = 1, min_blocks: int = 0, max_blocks: int = 10,
        launcher: Launcher | None = None, parallelism: float = 1, *, zone: str | None = None,
        worker_init: str = "", walltime: str | None = None, linger: bool = False,
        network: str = "global/networks/default", subnetwork: str | None = None,
        external_ip: bool = True, preemptible: bool = False, disk_size_gb: int | None = None,
        labels: dict[str, str] | None = None, api_endpoint: str | None = None,
        nodes_per_block: int = 1, label: str = "google_cloud",
    ) -> None:
        (self._discovery, self._gerrors, self._sa, self._gauth) = load_sdk(
            "GoogleCloudProvider", "googlecloud", "googleapiclient.discovery",
            "googleapiclient.errors", "google.oauth2.service_account", "google.auth")
        self.project_id, self.key_file, self.region = project_id, key_file, region
        self.os_project, self.os_family = os_project, os_family
        self.google_version, self.instance_type = google_version, instance_type
        self.zone = zone
        self.network, self.subnetwork, self.external_ip = network, subnetwork, external_ip
        self.preemptible, self.disk_size_gb = preemptible, disk_size_gb
        self.extra_labels = or_empty(labels, {})
        self.api_endpoint = api_endpoint
        super().__init__(
            label=label, init_blocks=init_blocks, min_blocks=min_blocks,
            max_blocks=max_blocks, nodes_per_block=nodes_per_block, parallelism=parallelism,
            worker_init=worker_init, launcher=launcher, walltime=walltime, linger=linger)
        # a key file is read now (offline); Application Default Credentials at the first
        # call, since finding them may ask the metadata server over the network
        self._credentials = None if key_file is None else self._read_key_file()
        self._compute: Any = None
        self._operations: dict[str, str] = {}  # instance name -> its insert operation

    def validate(self) -> None:
        super().validate()
        name = "GoogleCloudProvider"
        check_strs(name, ("project_id", self.project_id), ("region", self.region),
                   ("os_project", self.os_project), ("os_family", self.os_family),
                   ("instance_type", self.instance_type), ("network", self.network))
        check_strs(name, ("key_file", self.key_file), ("zone", self.zone),
                   ("subnetwork", self.subnetwork), ("api_endpoint", self.api_endpoint),
                   none=True)
        check_choice("google_version", self.google_version, ("v1", "beta"), owner=name)
        check_bool("external_ip", self.external_ip, owner=name)
        check_bool("preemptible", self.preemptible, owner=name)
        check_int("disk_size_gb", self.disk_size_gb, low=10, none=True, owner=name)
        check_str_map("labels", self.extra_labels, name)

    def _read_key_file(self) -> Any:
        try:
            return self._sa.Credentials.from_service_account_file(self.key_file,
                                                                  scopes=SCOPES)
        except (OSError, ValueError, KeyError) as exc:
            raise fail("key_file", self.key_file, "a readable service account key (JSON) "
                       "with client_email, private_key and token_uri", "GoogleCloudProvider",
                       f"Reading it failed: {exc!r}.") from exc

    def _default_credentials(self) -> Any:
        try:
            creds, _ = self._gauth.default(scopes=SCOPES)
        except self._gauth.exceptions.DefaultCredentialsError as exc:
            raise CloudAPIError(
                self.label, "finding Application Default Credentials", "credentials",
                str(exc), "pass key_file= (gcloud iam service-accounts keys create), or run "
                "`gcloud auth application-default login`") from exc
        return creds

    # -- connection ------------------------------------------------------------------------
    def _connect(self) -> None:
        if self._credentials is None:
            self._credentials = self._default_credentials()
        options = {"api_endpoint": self.api_endpoint} if self.api_endpoint else None
        self._compute = self._discovery.build(
            "compute", self.google_version, credentials=self._credentials,
            static_discovery=True, cache_discovery=False, client_options=options)
        if self.zone is None:
            self.zone = self._zone_of(self.region)

    def _zone_of(self, region: str) -> str:
        if _ZONE.match(region):
            return region  # Parsl configs often name a zone here
        with self._api(f"looking up region {region}"):
            reply = self._compute.regions().get(project=self.project_id,
                                                region=region).execute(num_retries=_RETRIES)
        zones = sorted(z.rsplit("/", 1)[-1] for z in reply.get("zones", []))
        if not zones:
            raise CloudAPIError(self.label, f"looking up region {region}", "region",
                                "the region lists no zones", "set zone= explicitly")
        return zones[0]

    @contextlib.contextmanager
    def _api(self, operation: str) -> Iterator[None]:
        """Turn the client's exceptions into CloudAPIError naming ``operation`` and the fix."""
        try:
            yield
        except self._gerrors.HttpError as exc:
            raise self._classify(operation, exc) from exc
        except self._gauth.exceptions.RefreshError as exc:
            raise CloudAPIError(
                self.label, operation, "credentials", f"getting an access token failed: {exc}",
                f"the service account key {self.key_file} was refused (deleted, disabled, or "
                "from another project): create a new key") from exc
        except (self._gauth.exceptions.TransportError, OSError) as exc:
            raise CloudAPIError(self.label, operation, "unreachable",
                                f"{type(exc).__name__}: {exc}") from exc
        except Exception as exc:  # httplib2's own errors (ServerNotFoundError, ...)
            if not type(exc).__module__.startswith(("httplib2", "google")):
                raise
            kind: Kind = "unreachable" if "httplib2" in type(exc).__module__ else "other"
            raise CloudAPIError(self.label, operation, kind,
                                f"{type(exc).__name__}: {exc}") from exc

    def _classify(self, operation: str, exc: Any) -> CloudAPIError:
        status = int(getattr(exc.resp, "status", 0) or 0)
        try:
            error = json.loads(exc.content).get("error", {})
        except (ValueError, AttributeError):
            error = {}
        message = error.get("message") or str(exc)
        reasons = [e.get("reason", "") for e in error.get("errors", [])]
        kind: Kind = next((_REASONS[r] for r in reasons if r in _REASONS), "other")
        hint = None
        if status == 401:
            kind = "credentials"
        elif status == 404 or "notFound" in reasons:
            kind, hint = self._not_found(message)
        elif kind == "other" and status == 403:
            kind = "permission"
        if kind == "permission":
            hint = ("the service account needs the Compute Instance Admin role "
                    f"(roles/compute.instanceAdmin.v1) on project {self.project_id}")
        return CloudAPIError(self.label, operation, kind, f"{status} {message}", hint,
                             str(status))

    @staticmethod
    def _not_found(message: str) -> tuple[Kind, str | None]:
        for marker, kind, hint in _NOT_FOUND:
            if marker in message:
                return kind, hint
        return "not_found", None

    # -- the instance ----------------------------------------------------------------------
    def instance_body(self, name: str, script: str, tags: dict[str, str]) -> dict[str, Any]:
        """The Instance resource a block is created from (what ``submit`` sends)."""
        disk: dict[str, Any] = {"sourceImage": f"projects/{self.os_project}/global/images/"
                                               f"family/{self.os_family}"}
        if self.disk_size_gb is not None:
            disk["diskSizeGb"] = str(self.disk_size_gb)
        nic: dict[str, Any] = {"network": self.network}
        if self.subnetwork:
            nic["subnetwork"] = self.subnetwork
        if self.external_ip:
            nic["accessConfigs"] = [{"type": "ONE_TO_ONE_NAT", "name": "External NAT"}]
        scheduling: dict[str, Any] = {}
        if self.preemptible:
            scheduling.update(provisioningModel="SPOT", instanceTerminationAction="DELETE")
        if self.walltime is not None and not self.linger:
            seconds = walltime_to_seconds(self.walltime) + _RUN_DURATION_MARGIN
            scheduling.update(maxRunDuration={"seconds": str(seconds)},
                              instanceTerminationAction="DELETE")
        body: dict[str, Any] = {
            "name": name,
            "machineType": f"zones/{self.zone}/machineTypes/{self.instance_type}",
            "labels": {**self.extra_labels, **tags},
            "disks": [{"boot": True, "autoDelete": True, "initializeParams": disk}],
            "networkInterfaces": [nic],
            "metadata": {"items": [{"key": "startup-script", "value": script}]},
        }
        if scheduling:
            body["scheduling"] = scheduling
        return body

    def _create(self, name: str, command: str, tasks_per_node: int,
                tags: dict[str, str]) -> str:
        script = self.worker_script(command, tasks_per_node, name)
        try:
            with self._api(f"creating instance {name} in {self.zone}"):
                op = self._compute.instances().insert(
                    project=self.project_id, zone=self.zone,
                    body=self.instance_body(name, script, tags)).execute(num_retries=_RETRIES)
        except CloudAPIError as exc:
            if exc.code == "409" and "already exists" in exc.detail:
                return name  # a retry after a lost reply: the first attempt made it
            raise
        self._fail_on_op_error(op, name)
        with self._lock:
            self._operations[name] = op["name"]
        return name

    def _fail_on_op_error(self, op: dict[str, Any], name: str) -> None:
        errors = (op.get("error") or {}).get("errors") or []
        if op.get("status") == "DONE" and errors:
            first = errors[0]
            code = first.get("code", "")
            kind = _REASONS.get(code, "other")
            raise CloudAPIError(self.label, f"creating instance {name} in {self.zone}", kind,
                                f"{code}: {first.get('message', '')}",
                                "try another zone= or instance_type, or lower max_blocks"
                                if kind == "quota" else None, code)

    def _run_instances(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        request = self._compute.instances().list(
            project=self.project_id, zone=self.zone, filter=f"labels.{TAG_RUN}={self.run_id}")
        with self._api("listing the run's instances"):
            while request is not None:
                reply = request.execute(num_retries=_RETRIES)
                found.extend(reply.get("items", []))
                request = self._compute.instances().list_next(request, reply)
        return found

    def _observe(self, job_ids: list[str]) -> dict[str, Observed]:
        wanted = set(job_ids)
        out = {i["name"]: self._observed(i) for i in self._run_instances() if i["name"] in wanted}
        for name in wanted - set(out):
            failed = self._insert_failure(name)
            if failed is not None:
                out[name] = Observed(failed, exists=False)
        return out

    def _insert_failure(self, name: str) -> JobStatus | None:
        """If the instance is not listed, did its insert operation fail? (None: no.)"""
        with self._lock:
            op_name = self._operations.get(name)
        if op_name is None:
            return None
        with self._api(f"checking the creation of {name}"):
            op = self._compute.zoneOperations().get(project=self.project_id, zone=self.zone,
                                                    operation=op_name).execute(num_retries=_RETRIES)
        try:
            self._fail_on_op_error(op, name)
        except CloudAPIError as exc:
            return JobStatus(JobState.FAILED, str(exc))
        return None

    def _observed(self, inst: dict[str, Any]) -> Observed:
        status, name = inst.get("status", ""), inst["name"]
        if status in _POWERED_OFF:
            return Observed(self.ended_by_itself(name, f"instance {name}"))
        if status == "DEPROVISIONING":
            return Observed(JobStatus(JobState.CANCELLED, f"instance {name} is being deleted "
                                      "(reclaimed Spot VM, maxRunDuration reached, or deleted "
                                      "outside plait)"), exists=False)
        state = map_state(self.label, status, STATES)
        message = inst.get("statusMessage") or None
        if state is JobState.HELD:
            message = f"instance {name} is {status}: resume it or cancel the block"
        return Observed(JobStatus(state, message))

    def _delete_one(self, job_id: str) -> None:
        with self._api(f"deleting instance {job_id}"):
            self._compute.instances().delete(project=self.project_id, zone=self.zone,
                                             instance=job_id).execute(num_retries=_RETRIES)

    def _list_tagged(self) -> list[str]:
        return [i["name"] for i in self._run_instances()]

    def bye(self) -> None:
        """Parsl's name: delete every instance of this run (see :meth:`cleanup`)."""
        self.cleanup()

    def __repr__(self) -> str:
        return (f"GoogleCloudProvider(project_id={self.project_id!r}, region={self.region!r}, "
                f"instance_type={self.instance_type!r}, max_blocks={self.max_blocks})")
