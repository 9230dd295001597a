"""Errors of the cloud and Kubernetes providers: an API call refused, classified with a fix.

::

    ExecutionProviderException
    └── CloudAPIError        a cloud or Kubernetes API call failed: bad credentials, quota,
                             unknown region/zone/image/flavor, permission, unreachable API, ...

A refused submission reaches the executor as ``SubmitException`` (Parsl's class) whose
``__cause__`` is the CloudAPIError, so the block's failure message carries the hint.
"""

from __future__ import annotations

from typing import Literal

from plait.providers._errors import ExecutionProviderException

Kind = Literal["credentials", "permission", "quota", "region", "image", "flavor", "network",
               "namespace", "invalid", "unreachable", "not_found", "other"]

#: What to do, by kind; a provider may pass a sharper hint of its own.
HINTS: dict[str, str] = {
    "credentials": "the credentials were rejected or are missing: refresh them and check "
                   "which ones the provider loads (key_file, profile or the environment)",
    "permission": "the credentials are valid but lack the permission for this call: ask "
                  "your cloud administrator for it",
    "quota": "a quota or limit was reached: wait for blocks to end, lower max_blocks, or "
             "ask for a higher quota",
    "region": "the region or zone is not known to this account: check its spelling and "
              "that the service is offered there",
    "image": "the machine image was not found: check its name or id and that it exists in "
             "this region and is visible to the account",
    "flavor": "the instance type (flavor) was not found or is not offered here: list the "
              "offered ones and pick one",
    "network": "the network settings were refused: check the subnet, network and security "
               "groups",
    "namespace": "the namespace does not exist: create it or set namespace=",
    "invalid": "the request was refused as invalid: the cloud's message above names the "
               "field",
    "unreachable": "the API could not be reached: check the network, proxy settings and "
                   "the endpoint the provider uses",
    "not_found": "the resource does not exist (it may have been deleted outside plait)",
    "other": "see the cloud's message above",
}


class CloudAPIError(ExecutionProviderException):
    """A cloud or Kubernetes API call made by a provider failed.

    Args:
        provider: the provider's label.
        operation: what plait was doing, e.g. ``"create pod plait-htex-block-0-1a2b"``.
        kind: the class of failure (``"credentials"``, ``"quota"``, ``"image"``, ...).
        detail: the cloud's own code and message.
        hint: what to do; defaults to the hint for ``kind``.
        code: the cloud's error code or HTTP status, when it gave one.
    """

    def __init__(self, provider: str, operation: str, kind: Kind, detail: str,
                 hint: str | None = None, code: str | None = None) -> None:
        super().__init__(provider, operation, kind, detail, hint, code)
        self.provider, self.operation, self.kind = provider, operation, kind
        self.detail, self.hint, self.code = detail, hint, code

    def __str__(self) -> str:
        hint = self.hint or HINTS.get(self.kind, HINTS["other"])
        return f"provider {self.provider}: {self.operation} failed: {self.detail}. {hint}."
