"""S3Staging: objects in S3 or an S3-compatible store, through boto3 (a plait addition).

``s3://bucket/key``. Downloads and uploads use boto3's transfer manager (multipart, and
its own temporary name on download); an uploaded object appears only when complete. The
ETag is the cache validator. Credentials come from boto3's usual chain (environment,
``~/.aws``, instance roles) where the transfer runs, unless given here — then they travel
with the task to the worker.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from plait._errors import OptionalModuleMissing
from plait._validate import check_str
from plait.data._files import File
from plait.data._retries import Permanent, Transient
from plait.data._transfer import TransferStaging, Where

_CLIENTS: dict[tuple[Any, ...], Any] = {}
_CLIENTS_LOCK = threading.Lock()
PERMANENT_CODES = frozenset({"404", "NoSuchKey", "NoSuchBucket", "403", "AccessDenied",
                             "InvalidAccessKeyId", "SignatureDoesNotMatch", "400"})


class S3Staging(TransferStaging):
    """Stage ``s3://bucket/key`` files in and out.

    Args:
        where: ``"worker"`` (default), ``"pilot"`` or ``"submitter"``.
        endpoint_url: an S3-compatible store's URL (MinIO, Ceph, moto, …); None: AWS.
        region_name, aws_access_key_id, aws_secret_access_key, profile_name: passed to
            boto3 (None: its defaults where the transfer runs).
        **options: as for TransferStaging.
    """

    schemes: ClassVar[tuple[str, ...]] = ("s3",)

    def __init__(self, where: Where = "worker", *, endpoint_url: str | None = None,
                 region_name: str | None = None, aws_access_key_id: str | None = None,
                 aws_secret_access_key: str | None = None, profile_name: str | None = None,
                 **options: Any) -> None:
        super().__init__(where, **options)
        for name, value in (("endpoint_url", endpoint_url), ("region_name", region_name),
                            ("aws_access_key_id", aws_access_key_id),
                            ("aws_secret_access_key", aws_secret_access_key),
                            ("profile_name", profile_name)):
            check_str(name, value, none=True, owner="S3Staging")
        self.endpoint_url, self.region_name, self.profile_name = (endpoint_url, region_name,
                                                                  profile_name)
        self.aws_access_key_id, self.aws_secret_access_key = (aws_access_key_id,
                                                              aws_secret_access_key)

    def __repr__(self) -> str:
        return f"S3Staging(where={self.where!r}, endpoint_url={self.endpoint_url!r})"

    def route(self, file: File, direction: str) -> str:
        where = self.endpoint_url or "the default endpoint"
        return f"{'from' if direction == 'in' else 'to'} bucket {file.netloc} at {where}"

    def fetch(self, file: File, part: str, state: dict[str, Any]) -> dict[str, Any]:
        bucket, key = _bucket_key(file)
        client = self._client()
        with _translated():
            head = client.head_object(Bucket=bucket, Key=key)
            client.download_file(bucket, key, part)
        return {"etag": head.get("ETag"), "size": head.get("ContentLength")}

    def is_current(self, file: File, meta: dict[str, Any]) -> bool:
        bucket, key = _bucket_key(file)
        with _translated():
            head = self._client().head_object(Bucket=bucket, Key=key)
        return bool(meta.get("etag")) and head.get("ETag") == meta["etag"]

    def push(self, src: str, file: File) -> None:
        bucket, key = _bucket_key(file)
        with _translated():
            self._client().upload_file(src, bucket, key)

    def _client(self) -> Any:
        """One boto3 client per process and settings (clients are thread-safe)."""
        settings = (self.endpoint_url, self.region_name, self.aws_access_key_id,
                    self.aws_secret_access_key, self.profile_name, self.timeout)
        client = _CLIENTS.get(settings)
        if client is None:
            try:
                import boto3
                from botocore.config import Config
            except ImportError:
                raise OptionalModuleMissing(["boto3"], "S3Staging needs boto3 (pip install "
                                            "'plait[s3]')") from None
            with _CLIENTS_LOCK:
                client = _CLIENTS.get(settings)
                if client is None:
                    session = boto3.session.Session(
                        aws_access_key_id=self.aws_access_key_id,
                        aws_secret_access_key=self.aws_secret_access_key,
                        region_name=self.region_name, profile_name=self.profile_name)
                    client = _CLIENTS[settings] = session.client(
                        "s3", endpoint_url=self.endpoint_url, config=Config(
                            connect_timeout=self.timeout, read_timeout=self.timeout,
                            retries={"max_attempts": 1}))  # plait retries, with backoff
        return client


def _bucket_key(file: File) -> tuple[str, str]:
    return file.netloc, file.path.lstrip("/")


class _translated:
    """Turn botocore's errors into Permanent (no such key, access denied) or Transient."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None or not type(exc).__module__.startswith(("botocore", "boto3", "s3transfer")):
            return
        response = getattr(exc, "response", None) or {}
        error = response.get("Error", {})
        code = str(error.get("Code", ""))
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        cause = f"S3 {code or type(exc).__name__}: {error.get('Message') or exc}"
        if code in PERMANENT_CODES or (status is not None and 400 <= status < 500
                                       and status not in (408, 429)):
            raise Permanent(cause) from None
        raise Transient(cause) from None
