"""The README's cloud and Kubernetes configs are valid: each builds (no network needed)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

README = Path(__file__).resolve().parents[3] / "README.md"


def snippets() -> list[str]:
    text = README.read_text()
    section = text[text.index("## Clouds and Kubernetes"):]
    section = section[:section.index("\n## ", 3)]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_every_provider_family_has_a_config() -> None:
    found = " ".join(snippets())
    for name in ("KubernetesProvider", "AWSProvider", "GoogleCloudProvider", "AzureProvider",
                 "OpenStackProvider"):
        assert f"{name}(" in found, name


@pytest.mark.parametrize("code", snippets(), ids=lambda c: c.split("import ")[1].split()[0])
def test_readme_config_builds(code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """stand-in: none needed: construction makes no API call. The files the examples name
    are made here with placeholder contents."""
    monkeypatch.chdir(tmp_path)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    (tmp_path / "service-account.json").write_text(json.dumps({
        "type": "service_account", "project_id": "my-project", "private_key_id": "1",
        "private_key": pem, "client_email": "a@my-project.iam.gserviceaccount.com",
        "client_id": "1", "token_uri": "https://oauth2.googleapis.com/token"}))
    (tmp_path / "azure-keys.json").write_text(json.dumps(dict.fromkeys(
        ["AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID",
         "AZURE_SUBSCRIPTION_ID"], "x")))
    code = re.sub(r'open\("[^"]+\.pub"\)\.read\(\)', '"ssh-ed25519 AAAA me"', code)
    exec(compile(code, str(README), "exec"), {})
