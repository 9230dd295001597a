"""S3 staging against a real S3-compatible server (moto's server mode, services/s3.sh)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import plait
from plait import Config, File, ThreadPoolExecutor, python_app
from plait.data_provider.s3 import S3Staging
from plait.errors import StagingError
from services import service


@pytest.fixture
def s3() -> Iterator[tuple[Any, str, dict[str, str]]]:
    import boto3

    s = service("s3")
    options = {"endpoint_url": s["ENDPOINT"], "region_name": s["AWS_DEFAULT_REGION"],
               "aws_access_key_id": s["AWS_ACCESS_KEY_ID"],
               "aws_secret_access_key": s["AWS_SECRET_ACCESS_KEY"]}
    client = boto3.client("s3", **options)
    bucket = f"plait-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    yield client, bucket, options


def at(url: str, local: Path) -> File:
    f = File(url)
    f.local_path = str(local)
    return f


def test_fetch_cache_and_push(s3: tuple[Any, str, dict[str, str]], tmp_path: Path) -> None:
    client, bucket, options = s3
    client.put_object(Bucket=bucket, Key="in/data.bin", Body=b"object bytes")
    provider = S3Staging(cache_dir=str(tmp_path / "cache"), **options)
    url = f"s3://{bucket}/in/data.bin"
    assert provider.fetch_here(at(url, tmp_path / "a")) is False
    assert provider.fetch_here(at(url, tmp_path / "b")) is True
    assert (tmp_path / "b").read_bytes() == b"object bytes"
    client.put_object(Bucket=bucket, Key="in/data.bin", Body=b"changed")
    assert provider.fetch_here(at(url, tmp_path / "c")) is False
    assert (tmp_path / "c").read_bytes() == b"changed"
    provider.push_here(at(f"s3://{bucket}/out/r.bin", tmp_path / "c"))
    assert client.get_object(Bucket=bucket, Key="out/r.bin")["Body"].read() == b"changed"


@pytest.mark.parametrize("key,says", [("missing", "404"), (None, "NoSuchBucket|404")])
def test_missing_object_or_bucket_fails_at_once(s3: tuple[Any, str, dict[str, str]],
                                                tmp_path: Path, key: str | None,
                                                says: str) -> None:
    _, bucket, options = s3
    url = f"s3://{bucket}/missing" if key else "s3://no-such-bucket-plait/x"
    with pytest.raises(StagingError, match=says) as info:
        S3Staging(cache=False, attempts=3, **options).fetch_here(at(url, tmp_path / "x"))
    assert info.value.attempts == 1 and not (tmp_path / "x").exists()


@python_app
def double(inputs: list[File] = (), outputs: list[File] = ()) -> None:  # type: ignore[assignment]
    with open(inputs[0], "rb") as src, open(outputs[0], "wb") as dst:
        dst.write(src.read() * 2)


def test_in_a_workflow(s3: tuple[Any, str, dict[str, str]], tmp_path: Path,
                       caplog: pytest.LogCaptureFixture) -> None:
    client, bucket, options = s3
    caplog.set_level(logging.INFO, "plait.data")
    client.put_object(Bucket=bucket, Key="x", Body=b"ab")
    plait.clear()
    ex = ThreadPoolExecutor(storage_access=[S3Staging(cache=False, **options)],
                            working_dir=str(tmp_path / "w"))
    with plait.load(Config(executors=[ex], run_dir=str(tmp_path / "run"), strategy="none")):
        out = double(inputs=[File(f"s3://{bucket}/x")], outputs=[File(f"s3://{bucket}/y")])
        out.outputs[0].result(timeout=60)
    assert client.get_object(Bucket=bucket, Key="y")["Body"].read() == b"abab"
    endpoint = options.get("endpoint_url")
    assert f"in the task, from bucket {bucket} at {endpoint}" in caplog.text
    assert f"in the task, to bucket {bucket} at {endpoint}" in caplog.text
