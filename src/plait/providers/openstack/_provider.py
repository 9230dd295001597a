"""OpenStackProvider: each block is one Nova server whose user data starts the workers.

    first submit ─Keystone: token + catalog─▶ resolve image (Glance), flavor (Nova),
                                              network (Neutron) names to ids, once
    submit() ─POST /servers (user_data, metadata plait-run/plait-provider/plait-job)─▶ Nova
    status() ─GET /servers/detail?name=<run's name pattern>─▶ one call for every block
    cancel() ─DELETE /servers/<id>─▶ Nova; a server that powered off (SHUTOFF) is deleted too

For OpenStack clouds such as Jetstream2, Chameleon or a site's own: credentials come from
clouds.yaml (``cloud=``) or the OS_* variables of an openrc file, as for the openstack CLI.
"""

from __future__ import annotations

import base64
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from plait._validate import check_str_list, fail
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
from plait.providers._jobs import JobState, JobStatus

log = logging.getLogger(__name__)

#: Server status values of the Compute API reference. SHUTOFF (powered off: the workers
#: ended) and ERROR are resolved in _observed().
STATES = {
    "BUILD": JobState.PENDING,
    "ACTIVE": JobState.RUNNING,
    # transient: the server comes back ACTIVE (its workers may be lost meanwhile)
    "REBOOT": JobState.RUNNING, "HARD_REBOOT": JobState.RUNNING,
    "MIGRATING": JobState.RUNNING, "RESIZE": JobState.RUNNING,
    "VERIFY_RESIZE": JobState.RUNNING, "REVERT_RESIZE": JobState.RUNNING,
    "PASSWORD": JobState.RUNNING, "REBUILD": JobState.RUNNING, "RESCUE": JobState.RUNNING,
    # parked by someone: not running work, not ended
    "PAUSED": JobState.HELD, "SUSPENDED": JobState.HELD, "SHELVED": JobState.HELD,
    "SHELVED_OFFLOADED": JobState.HELD,
    # Nova's own UNKNOWN: it lost contact with the server's compute host
    "UNKNOWN": JobState.UNKNOWN,
}
_LOOKUP_KINDS: dict[str, Kind] = {"image": "image", "flavor": "flavor", "network": "network"}
_HINTS: dict[Kind, str] = {
    "credentials": "Keystone refused the credentials: check clouds.yaml (cloud=) or the "
                   "OS_* variables of your openrc file; application credentials expire",
    "quota": "the project's quota (instances, cores or RAM) is used up: lower max_blocks, "
             "pick a smaller flavor, or ask for more (openstack quota show)",
    "image": "openstack image list shows the images this project may use",
    "flavor": "openstack flavor list shows the flavors this project may use",
    "network": "set network= to one of `openstack network list` (a project with several "
               "networks must name one)",
}


class OpenStackProvider(CloudProvider):
    """Blocks on OpenStack (Nova) servers, one server per block. Parsl has none.

    Args:
        image: image name or id (with Python and plait, or installed by worker_init).
        flavor: flavor name or id, e.g. ``"m3.small"`` on Jetstream2.
        cloud: the clouds.yaml entry to use (default: ``$OS_CLOUD`` or the OS_* variables).
        region_name: the region, for clouds with several.
        network: network name or id (needed where the project has several).
        key_name: keypair for SSH access (optional).
        security_groups: security group names (default: the project's default group).
        availability_zone: where to place servers.
        metadata: more metadata for every server.
        worker_init, walltime, linger, launcher, blocks: as for the other cloud providers.
        config_kwargs: more keyword arguments for ``openstack.connect`` (auth_url, ...).
    """

    extra = "openstack"

    def __init__(
        self, image: str, flavor: str, *, cloud: str | None = None,
        region_name: str | None = None, network: str | None = None,
        key_name: str | None = None, security_groups: list[str] | None = None,
        availability_zone: str | None = None, metadata: dict[str, str] | None = None,
        init_blocks: int = 1, min_blocks: int = 0, max_blocks: int = 10,
        parallelism: float = 1, worker_init: str = "", walltime: str | None = None,
        linger: bool = False, launcher: Launcher | None = None, nodes_per_block: int = 1,
        config_kwargs: dict[str, Any] | None = None, label: str = "openstack",
    ) -> None:
        (self._os, self._ksa) = load_sdk("OpenStackProvider", "openstack", "openstack",
                                         "keystoneauth1.exceptions")
        self.image, self.flavor, self.cloud = image, flavor, cloud
        self.region_name, self.network, self.key_name = region_name, network, key_name
        self.security_groups = or_empty(security_groups, [])
        self.availability_zone = availability_zone
        self.extra_metadata = or_empty(metadata, {})
        self.config_kwargs = or_empty(config_kwargs, {})
        super().__init__(
            label=label, init_blocks=init_blocks, min_blocks=min_blocks,
            max_blocks=max_blocks, nodes_per_block=nodes_per_block, parallelism=parallelism,
            worker_init=worker_init, launcher=launcher, walltime=walltime, linger=linger)
        self._conn: Any = None
        self._ids: dict[str, str] = {}  # image, flavor, network -> resolved id

    def validate(self) -> None:
        super().validate()
        name = "OpenStackProvider"
        check_strs(name, ("image", self.image), ("flavor", self.flavor))
        check_strs(name, ("cloud", self.cloud), ("region_name", self.region_name),
                   ("network", self.network), ("key_name", self.key_name),
                   ("availability_zone", self.availability_zone), none=True)
        check_str_list("security_groups", self.security_groups, owner=name)
        check_str_map("metadata", self.extra_metadata, name)
        if not isinstance(self.config_kwargs, dict):
            raise fail("config_kwargs", self.config_kwargs, "a dict of openstack.connect "
                       "arguments, or None", name)

    # -- connection ------------------------------------------------------------------------
    def _connect(self) -> None:
        with self._api("connecting to the cloud"):
            try:
                self._conn = self._os.connect(cloud=self.cloud, region_name=self.region_name,
                                              **self.config_kwargs)
            except self._os.exceptions.ConfigException as exc:
                raise CloudAPIError(
                    self.label, "reading the cloud configuration", "credentials", str(exc),
                    "name a clouds.yaml entry with cloud= (or OS_CLOUD), or source the "
                    "project's openrc file") from exc
            self._conn.authorize()
            self._ids["image"] = self._resolve("image", self.image)
            self._ids["flavor"] = self._resolve("flavor", self.flavor)
            if self.network:
                self._ids["network"] = self._resolve("network", self.network)

    def _resolve(self, kind: str, name_or_id: str) -> str:
        find = {"image": self._conn.image.find_image,
                "flavor": self._conn.compute.find_flavor,
                "network": self._conn.network.find_network}[kind]
        try:
            found = find(name_or_id, ignore_missing=False)
        except self._os.exceptions.NotFoundException as exc:
            what = _LOOKUP_KINDS[kind]
            raise CloudAPIError(self.label, f"looking up {kind} {name_or_id!r}", what,
                                f"no {kind} is named {name_or_id!r}",
                                _HINTS.get(what)) from exc
        return str(found.id)

    @contextlib.contextmanager
    def _api(self, operation: str) -> Iterator[None]:
        """Turn the SDK's exceptions into CloudAPIError naming ``operation`` and the fix."""
        exceptions = self._os.exceptions
        try:
            yield
        except CloudAPIError:
            raise
        except (self._ksa.Unauthorized, self._ksa.AuthorizationFailure) as exc:
            raise CloudAPIError(self.label, operation, "credentials", str(exc),
                                _HINTS["credentials"], "401") from exc
        except self._ksa.ConnectFailure as exc:
            raise CloudAPIError(self.label, operation, "unreachable", str(exc)) from exc
        except self._ksa.EndpointNotFound as exc:
            raise CloudAPIError(self.label, operation, "region", str(exc),
                                "the cloud's catalog has no such service in this region: "
                                "check region_name") from exc
        except exceptions.HttpException as exc:
            raise self._classify(operation, exc) from exc
        except exceptions.SDKException as exc:
            # authorize() wraps keystoneauth's errors: look at the causes, and the status text
            causes = _causes(exc)
            if (any(isinstance(c, self._ksa.Unauthorized) for c in causes)
                    or "(HTTP 401)" in str(exc)):
                raise CloudAPIError(self.label, operation, "credentials", str(exc),
                                    _HINTS["credentials"], "401") from exc
            if any(isinstance(c, (self._ksa.ConnectFailure, self._ksa.DiscoveryFailure))
                   for c in causes):
                raise CloudAPIError(self.label, operation, "unreachable", str(exc)) from exc
            raise CloudAPIError(self.label, operation, "other", str(exc)) from exc
        except self._ksa.ClientException as exc:
            raise CloudAPIError(self.label, operation, "other",
                                f"{type(exc).__name__}: {exc}") from exc

    def _classify(self, operation: str, exc: Any) -> CloudAPIError:
        code = int(getattr(exc, "status_code", 0) or 0)
        text = str(getattr(exc, "details", None) or exc)
        kind: Kind = "other"
        low = text.lower()
        if code == 401:
            kind = "credentials"
        elif "quota exceeded" in low or code == 413:
            kind = "quota"
        elif code == 403:
            kind = "permission"
        elif "image" in low:
            kind = "image"
        elif "flavor" in low:
            kind = "flavor"
        elif "network" in low:
            kind = "network"
        elif code == 404:
            kind = "not_found"
        elif code in (400, 409):
            kind = "invalid"
        return CloudAPIError(self.label, operation, kind, f"{code or ''} {text}".strip(),
                             _HINTS.get(kind), str(code) if code else None)

    # -- the server ------------------------------------------------------------------------
    def server_request(self, name: str, script: str, tags: dict[str, str]) -> dict[str, Any]:
        """The create_server attributes of one block (what ``submit`` sends)."""
        attrs: dict[str, Any] = {
            "name": name, "image_id": self._ids["image"], "flavor_id": self._ids["flavor"],
            "user_data": base64.b64encode(script.encode()).decode(),
            "metadata": {**self.extra_metadata, **tags},
            "networks": ([{"uuid": self._ids["network"]}] if "network" in self._ids
                         else "auto"),
        }
        if self.key_name:
            attrs["key_name"] = self.key_name
        if self.security_groups:
            attrs["security_groups"] = [{"name": g} for g in self.security_groups]
        if self.availability_zone:
            attrs["availability_zone"] = self.availability_zone
        return attrs

    def _create(self, name: str, command: str, tasks_per_node: int,
                tags: dict[str, str]) -> str:
        script = self.worker_script(command, tasks_per_node, name)
        with self._api(f"creating server {name}"):
            server = self._conn.compute.create_server(**self.server_request(name, script, tags))
        return str(server.id)

    def _run_servers(self) -> list[Any]:
        # Nova filters names by regular expression; the metadata check excludes look-alikes
        with self._api("listing the run's servers"):
            servers = list(self._conn.compute.servers(name=f"-{self.run_id[:8]}-[0-9]+$"))
        return [s for s in servers if (s.metadata or {}).get(TAG_RUN) == self.run_id]

    def _observe(self, job_ids: list[str]) -> dict[str, Observed]:
        wanted = set(job_ids)
        return {s.id: self._observed(s) for s in self._run_servers() if s.id in wanted}

    def _observed(self, server: Any) -> Observed:
        status, sid = (server.status or "").upper(), server.id
        if status == "SHUTOFF":
            return Observed(self.ended_by_itself(sid, f"server {server.name}"))
        if status == "ERROR":
            fault = server.fault or {}
            message = fault.get("message", "no fault recorded")
            hint = (": no hypervisor has room for this flavor; try a smaller flavor or "
                    "another availability zone" if "no valid host" in message.lower() else "")
            return Observed(JobStatus(JobState.FAILED, f"server {server.name} is in ERROR: "
                                      f"{message}{hint}"))
        if status in ("DELETED", "SOFT_DELETED"):
            return Observed(JobStatus(JobState.CANCELLED, f"server {server.name} was "
                                      "deleted"), exists=False)
        state = map_state(self.label, status, STATES)
        message = None
        if state is JobState.HELD:
            message = f"server {server.name} is {status}: resume it or cancel the block"
        return Observed(JobStatus(state, message))

    def _delete_one(self, job_id: str) -> None:
        with self._api(f"deleting server {job_id}"):
            self._conn.compute.delete_server(job_id, ignore_missing=True)

    def _list_tagged(self) -> list[str]:
        return [s.id for s in self._run_servers()]

    def __repr__(self) -> str:
        return (f"OpenStackProvider(image={self.image!r}, flavor={self.flavor!r}, "
                f"cloud={self.cloud!r}, max_blocks={self.max_blocks})")


def _causes(exc: BaseException) -> list[BaseException]:
    """The exceptions ``exc`` was raised from, nearest first."""
    out: list[BaseException] = []
    cause = exc.__cause__ or exc.__context__
    while cause is not None and cause not in out:
        out.append(cause)
        cause = cause.__cause__ or cause.__context__
    return out
