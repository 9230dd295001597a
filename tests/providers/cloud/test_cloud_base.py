"""What every cloud provider shares: names, tags, the boot script, state tables, errors."""

from __future__ import annotations

import logging
import pickle
import subprocess
import sys

import pytest

from plait.providers import JobState, JobStatus
from plait.providers._cloud import load_sdk, map_state, slug
from plait.providers._cloud_errors import CloudAPIError


def test_cloud_api_error_says_what_failed_and_what_to_do_and_pickles() -> None:
    err = CloudAPIError("ec2", "starting instance b-1", "quota", "VcpuLimitExceeded: no",
                        code="VcpuLimitExceeded")
    text = str(err)
    assert "provider ec2: starting instance b-1 failed: VcpuLimitExceeded: no" in text
    assert "lower max_blocks" in text
    back = pickle.loads(pickle.dumps(err))
    assert str(back) == text and back.code == "VcpuLimitExceeded" and back.kind == "quota"


@pytest.mark.parametrize(("text", "expected"), [
    ("plait.htex.block-0", "plait-htex-block-0"), ("My_Label", "my-label"),
    ("0abc", "p-0abc"), ("...", "p"), ("x" * 80, "x" * 63),
])
def test_slug_is_a_dns_label(text: str, expected: str) -> None:
    assert slug(text) == expected


def test_an_unknown_cloud_state_is_unknown_and_logged_once(
        caplog: pytest.LogCaptureFixture) -> None:
    table = {"running": JobState.RUNNING}
    with caplog.at_level(logging.WARNING):
        assert map_state("test-prov", "levitating", table) is JobState.UNKNOWN
        assert map_state("test-prov", "levitating", table) is JobState.UNKNOWN
    assert [r.message.count("levitating") for r in caplog.records] == [1]
    assert not JobStatus(JobState.UNKNOWN).terminal


def test_load_sdk_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "some_sdk", None)
    from plait._errors import OptionalModuleMissing

    with pytest.raises(OptionalModuleMissing, match=r"pip install 'plait\[thing\]'"):
        load_sdk("ThingProvider", "thing", "some_sdk")


def test_importing_the_providers_loads_no_sdk() -> None:
    code = ("import sys; from plait.providers import AWSProvider, AzureProvider, "
            "GoogleCloudProvider, KubernetesProvider, OpenStackProvider; "
            "print([m for m in ('boto3', 'kubernetes', 'googleapiclient', 'azure', "
            "'openstack') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(("path", "name"), [
    ("plait.providers.aws.aws", "AWSProvider"),
    ("plait.providers.kubernetes.kube", "KubernetesProvider"),
    ("plait.providers.googlecloud.googlecloud", "GoogleCloudProvider"),
    ("plait.providers.openstack.openstack", "OpenStackProvider"),
    ("plait.providers.azure.azure", "AzureProvider"),
])
def test_parsl_import_paths_give_the_same_class(path: str, name: str) -> None:
    import importlib

    import plait.providers

    assert getattr(importlib.import_module(path), name) is getattr(plait.providers, name)
