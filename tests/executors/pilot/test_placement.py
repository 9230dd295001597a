"""Worker counts, CPU pinning and accelerator environments (pure functions)."""

from __future__ import annotations

import math

import pytest

from plait.executors.pilot._placement import (
    accelerator_env,
    affinity_env,
    cpu_assignment,
    parse_cpu_list,
    worker_count,
)
from plait.executors.pilot._protocol import version_table


def test_worker_count_is_the_tightest_limit():
    assert worker_count(8, 64, 1, None, math.inf, 0) == 8
    assert worker_count(8, 64, 2, None, math.inf, 0) == 4
    assert worker_count(8, 10, 1, 4, math.inf, 0) == 2
    assert worker_count(8, 64, 1, None, 3, 0) == 3
    assert worker_count(8, 64, 1, None, math.inf, 2) == 2
    assert worker_count(1, 64, 4, None, math.inf, 0) == 1  # never zero


def test_cpu_assignments():
    cpus = [0, 1, 2, 3]
    assert cpu_assignment("none", 2, 1, cpus) is None
    assert cpu_assignment("block", 2, 2, cpus) == [[0, 1], [2, 3]]
    assert cpu_assignment("block-reverse", 2, 2, cpus) == [[2, 3], [0, 1]]
    assert cpu_assignment("alternating", 2, 2, cpus) == [[0, 2], [1, 3]]
    assert cpu_assignment("list:0-1,3:2", 2, 1, cpus) == [[0, 1, 3], [2]]
    assert parse_cpu_list("list:0,2-4") == [[0, 2, 3, 4]]
    with pytest.raises(ValueError, match="one group per worker"):
        cpu_assignment("list:0", 2, 1, cpus)
    with pytest.raises(ValueError, match="cpu_affinity"):
        cpu_assignment("diagonal", 2, 1, cpus)


def test_environments():
    assert affinity_env([2, 3])["GOMP_CPU_AFFINITY"] == "2,3"
    assert affinity_env([2, 3])["OMP_NUM_THREADS"] == "2"
    env = accelerator_env("1")
    assert env["CUDA_VISIBLE_DEVICES"] == env["ROCR_VISIBLE_DEVICES"] == "1"
    assert env["ZE_AFFINITY_MASK"] == "1" and env["ZE_ENABLE_PCI_ID_DEVICE_ORDER"] == "1"


def test_version_table_shows_every_component_once():
    mine = {"protocol": "1", "python": "3.11", "plait": "0.1.0"}
    assert version_table(mine, dict(mine), "manager") is None
    table = version_table(mine, {**mine, "python": "3.9"}, "manager m1 on h")
    assert table is not None
    lines = table.splitlines()
    assert lines[0].split() == ["component", "protocol", "python", "plait"]
    assert "3.9" in lines[2] and "(differs: python)" in lines[-1]
