"""Fixtures shared by the cloud provider tests: credentials isolated from the developer's."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# The stand-in servers (standin.py, k8s_api.py, ...) are imported by name from here.
HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)


@pytest.fixture(autouse=True)
def no_user_cloud_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The SDKs must not pick up this machine's own cloud credentials or config files."""
    for var in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EC2",
                "AWS_DEFAULT_REGION", "KUBECONFIG", "GOOGLE_APPLICATION_CREDENTIALS",
                "OS_CLOUD", "OS_AUTH_URL", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET",
                "AZURE_TENANT_ID", "AZURE_SUBSCRIPTION_ID"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
