"""GlobusStaging: third-party transfers between Globus endpoints (Parsl's provider).

``globus://ENDPOINT_ID/path``. A stage-in asks the Transfer service to copy the file from
its endpoint straight to the executor's endpoint (point-to-point: the bytes never pass
through the submitting machine, which only submits and watches the task); a stage-out
copies the other way once the app is done. Each copy lands under a hidden part name and is
renamed on the endpoint, so no half-written file is ever at the destination.

The Transfer API offers no notification, so a transfer is watched by asking for its
status, at intervals growing from 50 ms to ``poll_max``. A task that Globus reports as
stuck on a permanent fault (file not found, permission denied) is cancelled and fails the
staging at once, instead of retrying until its deadline.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from typing import Any, ClassVar

from plait._errors import OptionalModuleMissing
from plait._validate import check_methods, check_number, check_str
from plait.data._files import File
from plait.data._retries import Permanent, Transient, with_retries
from plait.data._transfer import TransferStaging, Where

log = logging.getLogger(__name__)
TOKEN_ENV = "PLAIT_GLOBUS_TRANSFER_TOKEN"
PERMANENT_FAULTS = frozenset({"FILE_NOT_FOUND", "PERMISSION_DENIED", "ENDPOINT_NOT_FOUND",
                              "QUOTA_EXCEEDED", "NO_SPACE_LEFT"})


class GlobusStaging(TransferStaging):
    """Stage ``globus://`` files to and from the executor's Globus endpoint.

    Args:
        endpoint_uuid: the endpoint (collection) that serves the executor's file system.
        endpoint_path: the endpoint path that ``local_path`` appears as (default: local
            paths are endpoint paths).
        local_path: the local directory that ``endpoint_path`` maps to.
        authorizer: a globus_sdk authorizer for the Transfer service; default an access
            token from ``transfer_token`` or ``$PLAIT_GLOBUS_TRANSFER_TOKEN``.
        transfer_token: a Transfer access token.
        base_url: the Transfer API's URL (default: Globus's).
        poll_max: the longest interval between two status requests, in seconds.
        deadline: seconds a transfer may take before it is cancelled and retried.
        where: ``"submitter"`` (default, Parsl's: submit from the kernel's threads).
        **options: as for TransferStaging (no local cache: files go endpoint to endpoint).

    Differences from Parsl: no token store in ``~/.parsl`` and no login command; pass an
    authorizer or a token (from the Globus CLI or your own app).
    """

    schemes: ClassVar[tuple[str, ...]] = ("globus",)
    cacheable: ClassVar[bool] = False

    def __init__(self, endpoint_uuid: str, endpoint_path: str | None = None,
                 local_path: str | None = None, *, authorizer: Any = None,
                 transfer_token: str | None = None, base_url: str | None = None,
                 poll_max: float = 10.0, deadline: float = 3600.0, where: Where = "submitter",
                 **options: Any) -> None:
        options.setdefault("cache", False)
        super().__init__(where, **options)
        owner = "GlobusStaging"
        check_str("endpoint_uuid", endpoint_uuid, owner=owner)
        for name, value in (("endpoint_path", endpoint_path), ("local_path", local_path),
                            ("transfer_token", transfer_token), ("base_url", base_url)):
            check_str(name, value, none=True, owner=owner)
        check_number("poll_max", poll_max, low=0, strict=True, owner=owner,
                     kind="a number of seconds")
        check_number("deadline", deadline, low=0, strict=True, owner=owner,
                     kind="a number of seconds")
        check_methods("authorizer", authorizer, ("get_authorization_header",),
                      "a globus_sdk authorizer", none=True, owner=owner)
        self.endpoint_uuid, self.endpoint_path, self.local_path = (endpoint_uuid,
                                                                   endpoint_path, local_path)
        self.authorizer, self.transfer_token, self.base_url = authorizer, transfer_token, \
            base_url
        self.poll_max, self.deadline = poll_max, deadline

    def __repr__(self) -> str:
        return f"GlobusStaging({self.endpoint_uuid!r}, where={self.where!r})"

    # -- where the executor's files are on its endpoint ---------------------------------------
    def endpoint_path_of(self, local: str) -> str:
        """The path on the executor's endpoint of the local file ``local``."""
        local = os.path.abspath(local)
        if self.endpoint_path is None or self.local_path is None:
            return local
        return os.path.join(self.endpoint_path, os.path.relpath(local, self.local_path))

    def route(self, file: File, direction: str) -> str:
        ends = (file.netloc, self.endpoint_uuid)
        src, dst = ends if direction == "in" else ends[::-1]
        return f"point-to-point (Globus) from endpoint {src} to endpoint {dst}"

    def fetch_here(self, file: File) -> bool:
        dest = self.endpoint_path_of(file.filepath)
        log.debug("staging in %s: point-to-point (Globus) from endpoint %s to %s:%s",
                 file.url, file.netloc, self.endpoint_uuid, dest)
        self._copy(file, (file.netloc, file.path), (self.endpoint_uuid, dest), "in")
        return False

    def push_here(self, file: File) -> None:
        src = self.endpoint_path_of(file.filepath)
        log.debug("staging out %s: point-to-point (Globus) from endpoint %s:%s",
                 file.url, self.endpoint_uuid, src)
        self._copy(file, (self.endpoint_uuid, src), (file.netloc, file.path), "out")

    # -- the Transfer service -----------------------------------------------------------------
    def _copy(self, file: File, src: tuple[str, str], dst: tuple[str, str],
              direction: str) -> None:
        directory, name = os.path.split(dst[1])
        part = f"{directory}/.{name}.part-{uuid.uuid4().hex[:12]}"
        local = file.local_path

        def once(n: int) -> None:
            client = self._client()
            with _translated():
                self._transfer(client, src, (dst[0], part), file.url)
                client.operation_rename(dst[0], part, dst[1])

        with_retries(file.url, direction, local, self.attempts, self.backoff, once)

    def _transfer(self, client: Any, src: tuple[str, str], dst: tuple[str, str],
                  url: str) -> None:
        import globus_sdk

        data = globus_sdk.TransferData(src[0], dst[0], label=f"plait {url}"[:128],
                                       verify_checksum=True)
        data.add_item(src[1], dst[1])
        task_id = client.submit_transfer(data)["task_id"]
        started, delay = time.monotonic(), 0.05
        while True:
            task = client.get_task(task_id)
            status, fault = task["status"], task.get("nice_status")
            if status == "SUCCEEDED":
                return
            if status == "FAILED":
                raise Permanent(f"Globus task {task_id} failed: {fault or 'no reason given'}")
            if fault in PERMANENT_FAULTS:
                client.cancel_task(task_id)
                raise Permanent(f"Globus task {task_id}: {fault} "
                                f"({task.get('nice_status_short_description') or fault})")
            if time.monotonic() - started > self.deadline:
                client.cancel_task(task_id)
                raise Transient(f"Globus task {task_id} did not finish in {self.deadline} s "
                                f"(last status {status} {fault or ''})")
            time.sleep(delay)  # the Transfer API has no notification: ask again, less often
            delay = min(delay * 2, self.poll_max)

    def _client(self) -> Any:
        try:
            import globus_sdk
        except ImportError:
            raise OptionalModuleMissing(["globus_sdk"], "GlobusStaging needs globus-sdk "
                                        "(pip install 'plait[globus]')") from None
        authorizer = self.authorizer
        if authorizer is None:
            token = self.transfer_token or os.environ.get(TOKEN_ENV)
            if not token:
                raise Permanent(f"no Globus credentials: pass GlobusStaging(authorizer=...) "
                                f"or transfer_token=, or set ${TOKEN_ENV}")
            authorizer = globus_sdk.AccessTokenAuthorizer(token)
        return globus_sdk.TransferClient(authorizer=authorizer, base_url=self.base_url)


class _translated:
    """Turn globus_sdk's errors into Permanent (auth, not found) or Transient."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None or not type(exc).__module__.startswith("globus_sdk"):
            return
        status = getattr(exc, "http_status", None)
        code = getattr(exc, "code", None)
        message = getattr(exc, "message", None) or str(exc)
        cause = f"Globus {status or ''} {code or type(exc).__name__}: {message}".replace(
            "  ", " ")
        if status is not None and 400 <= status < 500 and status not in (408, 409, 429):
            raise Permanent(cause) from None
        raise Transient(cause) from None
