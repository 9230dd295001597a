"""AWSProvider: each block is one EC2 instance whose boot script starts the workers.

    submit() ─run_instances(user data = boot script, tags, ClientToken)─▶ EC2
    status() ─describe_instances(tag:plait-run=<run id>)─▶ one call for every block
    cancel() ─terminate_instances─▶ EC2; cleanup() also terminates untracked tagged instances

Instances are started with InstanceInitiatedShutdownBehavior=terminate, so when the boot
script powers off at the end of the walltime the instance is gone, not merely stopped. No VPC
is created: instances go into ``subnet_id`` or the account's default VPC.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

from plait._errors import ConfigurationError
from plait._validate import check_number, check_str, check_str_list, fail
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

#: EC2 instance states (the API reference's InstanceState names). shutting-down and
#: terminated are resolved with the state reason, in _ended().
STATES = {
    "pending": JobState.PENDING,
    "running": JobState.RUNNING,
    "stopping": JobState.HELD,
    "stopped": JobState.HELD,
}
_ENDING = frozenset({"shutting-down", "terminated"})

#: EC2 error codes → kind of failure (the EC2 API reference's error code list).
ERROR_KINDS: dict[str, Kind] = {
    "AuthFailure": "credentials", "InvalidClientTokenId": "credentials",
    "SignatureDoesNotMatch": "credentials", "ExpiredToken": "credentials",
    "RequestExpired": "credentials", "IncompleteSignature": "credentials",
    "UnrecognizedClientException": "credentials", "InvalidAccessKeyId": "credentials",
    "OptInRequired": "region",
    "UnauthorizedOperation": "permission", "AccessDenied": "permission",
    "InstanceLimitExceeded": "quota", "VcpuLimitExceeded": "quota",
    "InsufficientInstanceCapacity": "quota", "MaxSpotInstanceCountExceeded": "quota",
    "RequestLimitExceeded": "quota", "InsufficientFreeAddressesInSubnet": "quota",
    "SpotMaxPriceTooLow": "quota",
    "InvalidAMIID.NotFound": "image", "InvalidAMIID.Malformed": "image",
    "InvalidAMIID.Unavailable": "image",
    "InvalidInstanceType": "flavor", "InvalidInstanceType.NotFound": "flavor",
    "Unsupported": "flavor",
    "InvalidSubnetID.NotFound": "network", "InvalidSubnet": "network",
    "InvalidGroup.NotFound": "network", "VPCIdNotSpecified": "network",
    "InvalidKeyPair.NotFound": "invalid", "InvalidParameterValue": "invalid",
    "InvalidParameterCombination": "invalid",
}

_HINTS = {
    "credentials": "AWS rejected the credentials: check key_file (a JSON file with "
                   "AWSAccessKeyId and AWSSecretKey), profile, or AWS_ACCESS_KEY_ID / "
                   "AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN; temporary credentials expire",
    "permission": "the IAM identity lacks this EC2 permission (ec2:RunInstances, "
                  "ec2:DescribeInstances, ec2:TerminateInstances, ec2:CreateTags are "
                  "needed): ask for them in its IAM policy",
    "quota": "an EC2 limit was reached (running instances or vCPUs of this type, spot "
             "capacity): lower max_blocks, try another instance_type or region, or ask AWS "
             "for a higher limit (Service Quotas console)",
    "image": "the AMI was not found in this region: AMI ids are per region, so look up "
             "image_id for the provider's region (aws ec2 describe-images)",
    "flavor": "the instance type is not offered here: aws ec2 describe-instance-type-"
              "offerings --region <region> lists the offered ones",
    "network": "set subnet_id= (and security_group_ids=) to a subnet of yours, or create a "
               "default VPC with `aws ec2 create-default-vpc`",
    "region": "the region is not enabled for this account: enable it in the account "
              "settings or choose another region",
}
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


class AWSProvider(CloudProvider):
    """Blocks on Amazon EC2 instances (Parsl's ``AWSProvider``), one instance per block.

    Args:
        image_id: the AMI (per region) with Python and plait installed, or installed by
            ``worker_init``.
        key_name: EC2 key pair for SSH access to the instances (optional).
        instance_type: EC2 instance type (default ``t2.small``).
        region: AWS region (default ``us-east-2``).
        spot_max_bid: > 0 asks for a spot instance at most this price per hour.
        key_file: JSON file with ``AWSAccessKeyId`` and ``AWSSecretKey``; else ``profile``;
            else the environment / instance role (boto3's chain).
        profile: a profile of ``~/.aws/config``.
        iam_instance_profile_arn: instance profile the instances run with.
        state_file: accepted for Parsl compatibility; plait creates no VPC, so there is no
            network state to keep (use ``subnet_id`` for your own network).
        walltime: ``"HH:MM:SS"``: the workers stop and the instance terminates itself then
            (Parsl accepts but does not honour it). None: no limit.
        linger: True keeps the instance running after the workers end (you stop it).
        subnet_id, security_group_ids: where instances go (default: the default VPC).
        tags: more tags for every instance and volume.
        nodes_per_block: must be 1 (one instance per block).

    Differences from Parsl: no VPC, subnets or security group are created (none can leak);
    walltime is enforced on the instance; the constructor makes no network call.
    """

    extra = "aws"

    def __init__(
        self, image_id: str, key_name: str | None = None, init_blocks: int = 1,
        min_blocks: int = 0, max_blocks: int = 10, nodes_per_block: int = 1,
        parallelism: float = 1, worker_init: str = "", instance_type: str = "t2.small",
        region: str = "us-east-2", spot_max_bid: float = 0, key_file: str | None = None,
        profile: str | None = None, iam_instance_profile_arn: str = "",
        state_file: str | None = None, walltime: str | None = "01:00:00",
        linger: bool = False, launcher: Launcher | None = None, *,
        subnet_id: str | None = None, security_group_ids: list[str] | None = None,
        tags: dict[str, str] | None = None, label: str = "ec2",
    ) -> None:
        (self._boto3, self._botocore) = load_sdk("AWSProvider", "aws", "boto3", "botocore")
        self.image_id, self.key_name, self.instance_type = image_id, key_name, instance_type
        self.region, self.spot_max_bid = region, spot_max_bid
        self.key_file, self.profile = key_file, profile
        self.iam_instance_profile_arn, self.state_file = iam_instance_profile_arn, state_file
        self.subnet_id, self.security_group_ids = subnet_id, security_group_ids
        self.extra_tags = or_empty(tags, {})
        super().__init__(
            label=label, init_blocks=init_blocks, min_blocks=min_blocks,
            max_blocks=max_blocks, nodes_per_block=nodes_per_block, parallelism=parallelism,
            worker_init=worker_init, launcher=launcher, walltime=walltime, linger=linger)
        self._session = self._make_session()
        self._ec2: Any = None

    def validate(self) -> None:
        super().validate()
        name = "AWSProvider"
        check_strs(name, ("image_id", self.image_id), ("instance_type", self.instance_type),
                   ("region", self.region))
        check_strs(name, ("key_name", self.key_name), ("key_file", self.key_file),
                   ("profile", self.profile), ("state_file", self.state_file),
                   ("subnet_id", self.subnet_id), none=True)
        check_str("iam_instance_profile_arn", self.iam_instance_profile_arn, empty=True,
                  owner=name)
        check_number("spot_max_bid", self.spot_max_bid, low=0, owner=name,
                     kind="0 (on-demand) or a price per hour")
        check_str_list("security_group_ids", self.security_group_ids, none=True, owner=name)
        check_str_map("tags", self.extra_tags, name)
        self._check_region()

    def _check_region(self) -> None:
        known = _known_regions()
        if self.region in known:
            return
        close = difflib.get_close_matches(self.region, sorted(known), n=3)
        if not _REGION.match(self.region):
            raise fail("region", self.region, "an AWS region such as 'us-east-2'",
                       "AWSProvider", f"Did you mean {' or '.join(close)}?" if close else None)
        log.warning("AWSProvider: region %r is unknown to this botocore (newer than it?); "
                    "trying it anyway", self.region)

    def _make_session(self) -> Any:
        kwargs: dict[str, Any] = {"region_name": self.region}
        if self.key_file is not None:
            kwargs.update(_read_key_file(self.key_file))
        elif self.profile is not None:
            kwargs["profile_name"] = self.profile
        try:
            return self._boto3.session.Session(**kwargs)
        except self._botocore.exceptions.ProfileNotFound as exc:
            raise ConfigurationError(
                "profile", self.profile, "a profile defined in ~/.aws/config or "
                "~/.aws/credentials", "run `aws configure --profile NAME`") from exc

    # -- CloudProvider ---------------------------------------------------------------------
    def _connect(self) -> None:
        config = self._botocore.config.Config(retries={"max_attempts": 5, "mode": "standard"})
        self._ec2 = self._session.client("ec2", config=config)

    def _call(self, operation: str, method: str, **kwargs: Any) -> Any:
        with self._api(operation):
            return getattr(self._ec2, method)(**kwargs)

    @contextlib.contextmanager
    def _api(self, operation: str) -> Iterator[None]:
        """Turn boto's exceptions into CloudAPIError naming ``operation`` and the fix."""
        try:
            yield
        except self._botocore.exceptions.ClientError as exc:
            raise self._classify(operation, exc) from exc
        except self._botocore.exceptions.NoCredentialsError as exc:
            raise CloudAPIError(self.label, operation, "credentials", str(exc), _HINTS[
                "credentials"]) from exc
        except self._botocore.exceptions.ConnectionError as exc:  # refused, timed out, DNS
            raise CloudAPIError(self.label, operation, "unreachable", str(exc),
                                f"check the network and that region {self.region!r} "
                                "exists") from exc
        except self._botocore.exceptions.ParamValidationError as exc:
            raise CloudAPIError(self.label, operation, "invalid", str(exc),
                                "a provider setting has the wrong type or form") from exc
        except self._botocore.exceptions.BotoCoreError as exc:
            raise CloudAPIError(self.label, operation, "other",
                                f"{type(exc).__name__}: {exc}") from exc

    def _classify(self, operation: str, exc: Any) -> CloudAPIError:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        kind: Kind = ERROR_KINDS.get(code, "other")
        detail = f"{code}: {error.get('Message', exc)}"
        hint = _HINTS.get(kind)
        if code == "InvalidKeyPair.NotFound":
            hint = (f"key pair {self.key_name!r} does not exist in {self.region}: create or "
                    "import it there, or set key_name=None")
        return CloudAPIError(self.label, operation, kind, detail, hint, code)

    def _tag_list(self, tags: dict[str, str]) -> list[dict[str, str]]:
        return [{"Key": k, "Value": v} for k, v in {**self.extra_tags, **tags}.items()]

    def instance_request(self, name: str, user_data: str, tags: dict[str, str]) -> dict[str, Any]:
        """The run_instances arguments of one block (what ``submit`` sends)."""
        tag_list = self._tag_list({"Name": name, **tags})
        req: dict[str, Any] = {
            "ImageId": self.image_id, "InstanceType": self.instance_type,
            "MinCount": 1, "MaxCount": 1, "UserData": user_data,
            "ClientToken": name,  # a retried call cannot start a second instance
            "InstanceInitiatedShutdownBehavior": "stop" if self.linger else "terminate",
            "TagSpecifications": [{"ResourceType": "instance", "Tags": tag_list},
                                  {"ResourceType": "volume", "Tags": tag_list}],
        }
        if self.key_name:
            req["KeyName"] = self.key_name
        if self.subnet_id:
            req["SubnetId"] = self.subnet_id
        if self.security_group_ids:
            req["SecurityGroupIds"] = list(self.security_group_ids)
        if self.iam_instance_profile_arn:
            req["IamInstanceProfile"] = {"Arn": self.iam_instance_profile_arn}
        if self.spot_max_bid:
            req["InstanceMarketOptions"] = {
                "MarketType": "spot",
                "SpotOptions": {"MaxPrice": str(self.spot_max_bid),
                                "SpotInstanceType": "one-time",
                                "InstanceInterruptionBehavior": "terminate"}}
        return req

    def _create(self, name: str, command: str, tasks_per_node: int,
                tags: dict[str, str]) -> str:
        script = self.worker_script(command, tasks_per_node, name)
        reply = self._call(f"starting instance {name}", "run_instances",
                           **self.instance_request(name, script, tags))
        return str(reply["Instances"][0]["InstanceId"])

    def _run_instances(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        pages = self._ec2.get_paginator("describe_instances").paginate(
            Filters=[{"Name": f"tag:{TAG_RUN}", "Values": [self.run_id]}])
        with self._api("listing the run's instances"):
            for page in pages:
                for reservation in page["Reservations"]:
                    found.extend(reservation["Instances"])
        return found

    def _observe(self, job_ids: list[str]) -> dict[str, Observed]:
        wanted = set(job_ids)
        out = {}
        for inst in self._run_instances():
            if inst["InstanceId"] in wanted:
                out[inst["InstanceId"]] = self._observed(inst)
        return out

    def _observed(self, inst: dict[str, Any]) -> Observed:
        name = inst["State"]["Name"]
        if name in _ENDING:
            return Observed(self._ended(inst), exists=name != "terminated")
        state = map_state(self.label, name, STATES)
        message = None
        if state is JobState.HELD:
            message = (f"instance {inst['InstanceId']} is {name}: start it again or cancel "
                       "the block")
        return Observed(JobStatus(state, message))

    def _ended(self, inst: dict[str, Any]) -> JobStatus:
        reason = inst.get("StateReason") or {}
        code, text = reason.get("Code", ""), reason.get("Message", "")
        iid = inst["InstanceId"]
        if code == "Client.InstanceInitiatedShutdown":
            return self.ended_by_itself(iid, f"instance {iid}")
        if code == "Client.UserInitiatedShutdown":
            return JobStatus(JobState.CANCELLED, f"instance {iid} was terminated (by plait "
                             "or by a user)")
        if code == "Server.SpotInstanceTermination":
            return JobStatus(JobState.FAILED, f"spot instance {iid} was reclaimed by AWS: "
                             "raise spot_max_bid or use on-demand instances (spot_max_bid=0)")
        return JobStatus(JobState.FAILED, f"instance {iid} ended: {code or 'no reason'} "
                         f"{text}".strip())

    def _delete(self, job_ids: list[str]) -> dict[str, bool]:
        result: dict[str, bool] = {}
        for start in range(0, len(job_ids), 1000):  # the API's limit per call
            chunk = job_ids[start:start + 1000]
            try:
                self._call("terminating instances", "terminate_instances", InstanceIds=chunk)
                result.update(dict.fromkeys(chunk, True))
            except CloudAPIError as exc:
                if exc.code != "InvalidInstanceID.NotFound":
                    log.error("%s", exc)
                    result.update(dict.fromkeys(chunk, False))
                elif len(chunk) == 1:
                    result[chunk[0]] = True  # already gone
                else:  # one unknown id fails the whole call: do the others one by one
                    for job_id in chunk:
                        result.update(self._delete([job_id]))
        return result

    def _list_tagged(self) -> list[str]:
        return [i["InstanceId"] for i in self._run_instances()
                if i["State"]["Name"] != "terminated"]

    def teardown(self) -> None:
        """Parsl's name: terminate every instance of this run (see :meth:`cleanup`)."""
        self.cleanup()

    def __repr__(self) -> str:
        return (f"AWSProvider(image_id={self.image_id!r}, instance_type="
                f"{self.instance_type!r}, region={self.region!r}, max_blocks="
                f"{self.max_blocks}, walltime={self.walltime!r})")


@functools.cache
def _known_regions() -> frozenset[str]:
    """Every EC2 region botocore's endpoint data names, in all partitions (read once)."""
    import boto3

    session = boto3.session.Session()
    return frozenset(region for partition in session.get_available_partitions()
                     for region in session.get_available_regions("ec2", partition))


def _read_key_file(path: str) -> dict[str, str]:
    """boto3 session arguments from a Parsl key file: ``{"AWSAccessKeyId", "AWSSecretKey"}``."""
    try:
        with open(path) as fh:
            keys = json.load(fh)
        out = {"aws_access_key_id": keys["AWSAccessKeyId"],
               "aws_secret_access_key": keys["AWSSecretKey"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigurationError(
            "key_file", path, 'a readable JSON file {"AWSAccessKeyId": ..., "AWSSecretKey": '
            '...} (optionally "AWSSessionToken")', f"reading it failed: {exc!r}") from exc
    if keys.get("AWSSessionToken"):
        out["aws_session_token"] = keys["AWSSessionToken"]
    return out
