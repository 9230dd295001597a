"""Bad input to the cloud and Kubernetes providers, swept as tests/test_bad_input.py sweeps
the others (its rows, strategies and properties; fewer examples per row, as there are many
rows). Every constructor here runs offline: no API is called.

stand-in: none needed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import test_bad_input
from test_bad_input import (
    BOOLS,
    HHMMSS,
    STR_LISTS,
    SWEEP,
    Row,
    _int,
    _real,
    choices,
    ints,
    numbers,
    other_than,
    str_maps,
    strs,
)


def cloud_rows(cls: type, base: Mapping[str, Any], *fields: tuple[str, Any]) -> list[Row]:
    """Rows for a cloud provider: its own fields, and those every cloud provider has."""
    common = [
        ("walltime", (st.one_of(st.text(max_size=8).filter(lambda t: t.count(":") != 2),
                                other_than(lambda v: isinstance(v, str) or v is None)),
                      st.one_of(st.none(), HHMMSS))),
        ("nodes_per_block", (st.one_of(st.integers(max_value=0), st.integers(min_value=2),
                                       other_than(_int)), st.just(1))),
    ]
    if cls.__name__ != "KubernetesProvider":  # pods have no linger
        common.append(("linger", BOOLS))
    return [Row(cls, name, spec, base) for name, spec in [*common, *fields]]


def _cloud_rows() -> list[Row]:
    from plait.providers import (
        AWSProvider,
        AzureProvider,
        GoogleCloudProvider,
        KubernetesProvider,
        OpenStackProvider,
    )

    uid = (st.one_of(st.integers(max_value=-1), st.text(min_size=1, max_size=4).filter(
        lambda t: not (t.isascii() and t.isdigit())), other_than(
        lambda v: v is None or _int(v) or isinstance(v, str))),
        st.one_of(st.none(), st.integers(0, 65535), st.integers(0, 65535).map(str)))
    pairs = (other_than(lambda v: (isinstance(v, list) and not v) or v is None),
             st.one_of(st.none(), st.lists(st.tuples(st.text(max_size=4), st.text(max_size=4)),
                                           max_size=2)))
    ref = {"publisher": "Canonical", "offer": "ubuntu", "sku": "server", "version": "latest",
           "vm_size": "Standard_B1s", "admin_username": "plait", "password": "x-Y-1234567"}
    return [
        *cloud_rows(
            KubernetesProvider, {"image": "img", "max_blocks": 10, "init_blocks": 0},
            ("image", strs()), ("namespace", strs()), ("max_mem", strs()),
            ("init_mem", strs()),
            ("max_cpu", (numbers(0, strict=True)[0], st.floats(1, 64))),
            ("init_cpu", (st.one_of(numbers(0, strict=True)[0], st.floats(2.5, 100)),
                          st.floats(0.01, 2))),
            ("extra_requests", str_maps()), ("extra_limits", str_maps()),
            ("annotations", str_maps()), ("labels", str_maps()),
            ("pod_name", strs(none=True)), ("secret", strs(none=True)),
            ("service_account_name", strs(none=True)), ("config_file", strs(none=True)),
            ("context", strs(none=True)), ("user_id", uid), ("group_id", uid),
            ("run_as_non_root", BOOLS), ("persistent_volumes", pairs),
            ("request_timeout", numbers(0, strict=True))),
        *cloud_rows(
            AWSProvider, {"image_id": "ami-1", "max_blocks": 10},
            ("image_id", strs()), ("instance_type", strs()),
            ("region", (st.one_of(other_than(lambda v: isinstance(v, str)),
                                  st.text(max_size=6)),
                        st.sampled_from(["us-east-2", "eu-west-1", "ap-southeast-2"]))),
            ("key_name", strs(none=True)), ("subnet_id", strs(none=True)),
            ("state_file", strs(none=True)), ("key_file", strs(none=True)),
            ("profile", strs(none=True)), ("iam_instance_profile_arn", strs(empty=True)),
            ("spot_max_bid", numbers(0)), ("security_group_ids", STR_LISTS),
            ("tags", str_maps())),
        *cloud_rows(
            GoogleCloudProvider, {"project_id": "p", "key_file": None,
                                  "region": "us-central1", "os_project": "debian-cloud",
                                  "os_family": "debian-12", "max_blocks": 10},
            ("project_id", strs()), ("region", strs()), ("os_project", strs()),
            ("os_family", strs()), ("instance_type", strs()), ("network", strs()),
            ("zone", strs(none=True)), ("subnetwork", strs(none=True)),
            ("api_endpoint", strs(none=True)), ("key_file", strs(none=True)),
            ("google_version", choices("v1", "beta")), ("external_ip", BOOLS),
            ("preemptible", BOOLS), ("disk_size_gb", ints(10, none=True)),
            ("labels", str_maps())),
        *cloud_rows(
            AzureProvider, {"vm_reference": ref, "max_blocks": 10},
            ("vm_reference", (st.one_of(
                other_than(lambda v: isinstance(v, dict)),  # or one entry left out:
                st.sampled_from(sorted(ref)).map(lambda k: {x: v for x, v in ref.items()
                                                            if x != k}),
                st.just({**ref, "disk_size_gb": -1}), st.just({**ref, "vm_size": 3})),
                st.one_of(st.just(ref), st.just({**ref, "disk_size_gb": 30})))),
            ("location", strs()), ("group_name", strs()), ("vnet_name", strs()),
            ("key_name", strs(none=True)), ("subnet_id", strs(none=True)),
            ("arm_endpoint", strs(none=True)), ("authority", strs(none=True)),
            ("ssh_public_key", strs(none=True)), ("key_file", strs(none=True)),
            ("public_ip", BOOLS),
            ("spot_max_price", (st.one_of(
                other_than(lambda v: _real(v) or v is None),
                st.floats(max_value=0).filter(lambda x: x != -1), st.just(math.nan),
                st.just(math.inf)), st.one_of(st.none(), st.just(-1), st.floats(0.001, 50)))),
            ("tags", str_maps())),
        *cloud_rows(
            OpenStackProvider, {"image": "Featured-Ubuntu24", "flavor": "m3.small",
                                "max_blocks": 10},
            ("image", strs()), ("flavor", strs()), ("cloud", strs(none=True)),
            ("region_name", strs(none=True)), ("network", strs(none=True)),
            ("key_name", strs(none=True)), ("availability_zone", strs(none=True)),
            ("security_groups", STR_LISTS), ("metadata", str_maps()),
            ("config_kwargs", (other_than(lambda v: v is None or isinstance(v, dict)),
                               st.one_of(st.none(), st.just({}))))),
    ]


ROWS = _cloud_rows()
FEWER = settings(SWEEP, max_examples=6)


# test_bad_input's own properties, run on these rows (hypothesis keeps the undecorated body
# of a @given test as .hypothesis.inner_test)
_refuses = test_bad_input.test_refuses_bad_values_naming_field_value_and_what_is_allowed
_accepts = test_bad_input.test_accepts_good_values


@pytest.mark.parametrize("row", ROWS, ids=str)
@FEWER
@given(data=st.data())
def test_refuses_bad_values_naming_field_value_and_what_is_allowed(row: Row, data: Any) -> None:
    _refuses.hypothesis.inner_test(row=row, data=data)


@pytest.mark.parametrize("row", ROWS, ids=str)
@FEWER
@given(data=st.data())
def test_accepts_good_values(row: Row, data: Any) -> None:
    _accepts.hypothesis.inner_test(row=row, data=data)
