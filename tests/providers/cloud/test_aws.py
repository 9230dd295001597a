"""AWSProvider against moto's EC2 server.

Stand-in: moto's server mode (services/moto.sh), a separate local HTTP server implementing
the EC2 query API, with AMI, instance type, key pair and credential (IAM signature)
validation switched on. boto3 builds, signs and sends every request and parses every reply
itself, as against AWS. moto runs no instance: states move only by API calls.
"""

from __future__ import annotations

import base64
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from factories import providers_made_by

from plait._errors import ConfigurationError, OptionalModuleMissing
from plait.providers import JobState, SubmitException
from plait.providers._cloud_errors import CloudAPIError
from plait.providers.aws.aws import AWSProvider
from services import service

REGION = "us-east-2"


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """moto's endpoint, made boto3's EC2 endpoint; the full-access test account's keys."""
    settings = service("moto")
    monkeypatch.setenv("AWS_ENDPOINT_URL_EC2", settings["ENDPOINT"])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", settings["FULL_KEY_ID"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", settings["FULL_SECRET"])
    return settings


@pytest.fixture
def ec2(moto: dict[str, str]) -> Any:
    """A boto3 client on the same account, to look at what the provider did."""
    return boto3.client("ec2", region_name=REGION)


@pytest.fixture(scope="module")
def ami() -> str:
    """An AMI moto knows in REGION (looked up once: moto lists ~1,300 of them)."""
    settings = service("moto")
    client = boto3.client("ec2", region_name=REGION, endpoint_url=settings["ENDPOINT"],
                          aws_access_key_id=settings["FULL_KEY_ID"],
                          aws_secret_access_key=settings["FULL_SECRET"])
    images = client.describe_images(Filters=[{"Name": "name", "Values": ["amzn2-ami-*"]}])
    return str(images["Images"][0]["ImageId"])


@pytest.fixture
def make(moto: dict[str, str], ami: str, ec2: Any, tmp_path: Path) -> Any:
    def build(**kwargs: Any) -> AWSProvider:
        kwargs.setdefault("image_id", ami)
        return AWSProvider(region=REGION, **kwargs)

    def leftovers(prov: AWSProvider) -> list[str]:
        found = ec2.describe_instances(Filters=[
            {"Name": "tag:plait-run", "Values": [prov.run_id]},
            {"Name": "instance-state-name", "Values": ["pending", "running", "stopping",
                                                       "stopped"]}])
        return [i["InstanceId"] for r in found["Reservations"] for i in r["Instances"]]

    yield from providers_made_by(build, tmp_path / "submit_scripts", leftovers)


def instance(ec2: Any, iid: str) -> dict[str, Any]:
    [res] = ec2.describe_instances(InstanceIds=[iid])["Reservations"]
    return dict(res["Instances"][0])


def test_submit_starts_one_tagged_instance_running_the_boot_script(
        make: Any, ec2: Any, ami: str, tmp_path: Path) -> None:
    """stand-in: moto EC2 server. The instance moto recorded is checked field by field."""
    key = f"plait-key-{uuid.uuid4().hex[:8]}"
    ec2.create_key_pair(KeyName=key)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName=key, Description="t", VpcId=vpc)
    prov = make(key_name=key, instance_type="t3.micro", worker_init="module load x",
                walltime="00:30:00", subnet_id=subnet, security_group_ids=[group["GroupId"]],
                tags={"project": "climate"}, spot_max_bid=0.05)
    iid = prov.submit("process_worker_pool.py --port 1234", 1, "plait.htex.block-0")

    inst = instance(ec2, iid)
    assert inst["ImageId"] == ami and inst["InstanceType"] == "t3.micro"
    assert inst["KeyName"] == key and inst["SubnetId"] == subnet
    assert [g["GroupId"] for g in inst["SecurityGroups"]] == [group["GroupId"]]
    assert inst["InstanceLifecycle"] == "spot"
    tags = {t["Key"]: t["Value"] for t in inst["Tags"]}
    name = prov.resources[iid]["job_name"]
    assert tags == {"Name": name, "plait-run": prov.run_id, "plait-provider": "ec2",
                    "plait-job": name, "project": "climate"}
    assert name.startswith("plait-htex-block-0-") and len(name) <= 63
    shutdown = ec2.describe_instance_attribute(
        InstanceId=iid, Attribute="instanceInitiatedShutdownBehavior")
    assert shutdown["InstanceInitiatedShutdownBehavior"]["Value"] == "terminate"
    user_data = ec2.describe_instance_attribute(InstanceId=iid, Attribute="userData")
    script = base64.b64decode(user_data["UserData"]["Value"]).decode()
    assert script == prov.job_script("process_worker_pool.py --port 1234", 1, name)
    assert "module load x" in script and "process_worker_pool.py --port 1234" in script
    assert "timeout -k 30 -s TERM 1800 bash /var/tmp/plait-block.sh" in script
    assert script.rstrip().endswith("shutdown -h now")
    assert (tmp_path / "submit_scripts" / f"{name}.boot.sh").read_text() == script
    assert prov.status([iid])[0].state in (JobState.PENDING, JobState.RUNNING)


def test_linger_keeps_the_instance_and_no_walltime_means_no_timeout(make: Any, ec2: Any) -> None:
    """stand-in: moto EC2 server."""
    prov = make(linger=True, walltime=None)
    iid = prov.submit("worker", 1, "b")
    script = base64.b64decode(ec2.describe_instance_attribute(
        InstanceId=iid, Attribute="userData")["UserData"]["Value"]).decode()
    assert "shutdown" not in script and "timeout" not in script
    assert ec2.describe_instance_attribute(
        InstanceId=iid, Attribute="instanceInitiatedShutdownBehavior",
    )["InstanceInitiatedShutdownBehavior"]["Value"] == "stop"


def test_status_follows_the_instance_through_stop_start_and_outside_termination(
        make: Any, ec2: Any) -> None:
    """stand-in: moto EC2 server; states change by API calls made as another user would."""
    prov = make()
    iid = prov.submit("worker", 1, "b")
    ec2.stop_instances(InstanceIds=[iid])
    [held] = prov.status([iid])
    assert held.state is JobState.HELD and "start it again or cancel" in str(held.message)
    ec2.start_instances(InstanceIds=[iid])
    assert prov.status([iid])[0].state in (JobState.PENDING, JobState.RUNNING)
    ec2.terminate_instances(InstanceIds=[iid])
    [ended] = prov.status([iid])
    assert ended.state is JobState.CANCELLED and "terminated" in str(ended.message)
    assert prov.live_jobs() == []
    assert prov.status(["i-0000000000000000"])[0].state is JobState.MISSING


def test_cancel_and_cleanup_leave_nothing_running(make: Any, ec2: Any, ami: str) -> None:
    """stand-in: moto EC2 server. An instance tagged with the run but never returned to
    plait (as when a run_instances reply is lost) is found by its tag and terminated."""
    prov = make()
    first, second = prov.submit("w", 1, "b0"), prov.submit("w", 1, "b1")
    assert prov.cancel([first]) == [True]
    assert instance(ec2, first)["State"]["Name"] in ("shutting-down", "terminated")
    assert prov.status([first])[0].state is JobState.CANCELLED
    lost = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, TagSpecifications=[
        {"ResourceType": "instance", "Tags": [{"Key": "plait-run", "Value": prov.run_id}]}],
    )["Instances"][0]["InstanceId"]
    assert prov.cleanup(timeout=10) == []
    for iid in (first, second, lost):
        assert instance(ec2, iid)["State"]["Name"] == "terminated"
    assert prov.status([second])[0].state is JobState.CANCELLED
    assert prov.cancel([first, "i-unknown"]) == [True, False]


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"image_id": "ami-0123456789abcdef0"}, ["InvalidAMIID.NotFound", "AMI ids are per region"]),
    ({"instance_type": "t2.enormous"}, ["InvalidInstanceType", "describe-instance-type"]),
    ({"key_name": "no-such-key"}, ["InvalidKeyPair.NotFound", "'no-such-key'", "key_name"]),
    ({"subnet_id": "subnet-0123456789abcdef0"}, ["InvalidSubnetID.NotFound", "subnet_id="]),
], ids=["image", "instance_type", "key_pair", "subnet"])
def test_refused_submissions_name_the_cause_and_the_fix(
        make: Any, kwargs: dict[str, Any], words: list[str]) -> None:
    """stand-in: moto EC2 server with AMI, instance type and key pair validation on."""
    prov = make(**kwargs)
    with pytest.raises(SubmitException) as info:
        prov.submit("w", 1, "b")
    for word in words:
        assert word in str(info.value)
    assert isinstance(info.value.__cause__, CloudAPIError)
    assert prov.live_jobs() == []


def test_bad_credentials_and_missing_permission(
        make: Any, moto: dict[str, str], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    """stand-in: moto EC2 server checking request signatures against its IAM users, and
    plait-readonly's policy (ec2:Describe* only)."""
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"AWSAccessKeyId": moto["FULL_KEY_ID"],
                                "AWSSecretKey": "not-the-secret"}))
    with pytest.raises(SubmitException, match=r"AuthFailure.*key_file") as info:
        make(key_file=str(keys)).submit("w", 1, "b")
    assert info.value.__cause__.kind == "credentials"  # type: ignore[union-attr]

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", moto["READONLY_KEY_ID"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", moto["READONLY_SECRET"])
    readonly = make()
    with pytest.raises(SubmitException, match="ec2:RunInstances") as info:
        readonly.submit("w", 1, "b")
    assert info.value.__cause__.kind == "permission"  # type: ignore[union-attr]


def test_a_failing_status_call_keeps_the_last_states(make: Any, moto: dict[str, str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """stand-in: moto EC2 server; the provider's client is re-made with rejected keys."""
    prov = make()
    iid = prov.submit("w", 1, "b")
    before = prov.status([iid])
    good = prov._ec2
    prov._ec2 = boto3.client("ec2", region_name=REGION, aws_access_key_id="AKIAFAKE",
                             aws_secret_access_key="x")
    assert prov.status([iid]) == before and not before[0].terminal
    prov._ec2 = good


def test_configuration_is_checked_offline() -> None:
    """stand-in: none needed: these fail before any API call."""
    with pytest.raises(ConfigurationError, match="us-east-2"):
        AWSProvider("ami-1", region="us-east2")
    with pytest.raises(ConfigurationError, match="nodes_per_block"):
        AWSProvider("ami-1", nodes_per_block=2)
    with pytest.raises(ConfigurationError, match="walltime"):
        AWSProvider("ami-1", walltime="90 minutes")
    with pytest.raises(ConfigurationError, match="AWSAccessKeyId"):
        AWSProvider("ami-1", key_file="/nonexistent/keys.json")
    with pytest.raises(ConfigurationError, match="aws configure --profile"):
        AWSProvider("ami-1", profile="no-such-profile")


def test_unknown_and_ending_states_from_documented_replies(make: Any) -> None:
    """stand-in: DescribeInstances items shaped as in the EC2 API reference, for the
    states and state reasons moto cannot produce (spot reclaim, shutdown from inside)."""
    prov = make()

    def observed(state: str, code: str = "") -> Any:
        item = {"InstanceId": "i-1", "State": {"Name": state},
                "StateReason": {"Code": code, "Message": code}}
        return prov._observed(item)

    assert observed("hibernating").status.state is JobState.UNKNOWN
    assert observed("pending").status.state is JobState.PENDING
    spot = observed("terminated", "Server.SpotInstanceTermination")
    assert spot.status.state is JobState.FAILED and not spot.exists
    assert "spot_max_bid" in str(spot.status.message)
    done = observed("shutting-down", "Client.InstanceInitiatedShutdown")
    assert done.status.state is JobState.COMPLETED and done.exists
    assert observed("terminated", "Server.InternalError").status.state is JobState.FAILED


def test_quota_errors_are_classified() -> None:
    """stand-in: error replies with the codes of the EC2 API reference (moto models no
    limits)."""
    from botocore.exceptions import ClientError

    prov = AWSProvider("ami-1")
    for code in ("InstanceLimitExceeded", "VcpuLimitExceeded", "InsufficientInstanceCapacity"):
        err = prov._classify("starting instance b", ClientError(
            {"Error": {"Code": code, "Message": "You have requested more instances"}},
            "RunInstances"))
        assert err.kind == "quota" and "max_blocks" in str(err) and code in str(err)


def test_without_the_extra_construction_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """stand-in: boto3 made unimportable in this process."""
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(OptionalModuleMissing, match=r"plait\[aws\]"):
        AWSProvider("ami-1")


@pytest.mark.timeout(60)
def test_a_refused_block_fails_the_tasks_with_the_clouds_reason(
        moto: dict[str, str], tmp_path: Path) -> None:
    """stand-in: moto EC2 server. Through the whole stack: the executor's first block is
    refused (unknown AMI), so the workflow's task fails at once with EC2's reason and the
    fix, instead of waiting for workers that will never come."""
    import plait
    from plait import Config, HighThroughputExecutor, python_app

    provider = AWSProvider("ami-0123456789abcdef0", region=REGION, init_blocks=1,
                           max_blocks=1)
    provider.status_polling_interval = 0.2
    htex = HighThroughputExecutor(provider=provider, address="127.0.0.1")

    @python_app
    def one() -> int:
        return 1

    plait.clear()
    try:
        config = Config(executors=[htex], run_dir=str(tmp_path / "runinfo"))
        with plait.load(config), pytest.raises(Exception, match=r"InvalidAMIID\.NotFound.*"
                                                                r"per region"):
            one().result(timeout=30)
    finally:
        plait.clear()
