"""The module paths Parsl scripts import providers and launchers from resolve to plait's."""

from __future__ import annotations

import importlib

import pytest

import plait.launchers
import plait.providers

PATHS = {
    "plait.providers.base": ["ExecutionProvider", "JobState", "JobStatus"],
    "plait.providers.errors": ["ExecutionProviderException", "ScaleOutFailed",
                               "SchedulerMissingArgs", "ScriptPathError", "SubmitException"],
    "plait.providers.cluster_provider": ["ClusterProvider"],
    "plait.providers.local.local": ["LocalProvider"],
    "plait.providers.slurm.slurm": ["SlurmProvider"],
    "plait.providers.pbspro.pbspro": ["PBSProProvider"],
    "plait.providers.torque.torque": ["TorqueProvider"],
    "plait.providers.lsf.lsf": ["LSFProvider"],
    "plait.providers.condor.condor": ["CondorProvider"],
    "plait.providers.grid_engine.grid_engine": ["GridEngineProvider"],
    "plait.providers.cobalt.cobalt": ["CobaltProvider"],
    "plait.providers.flux.flux": ["FluxProvider"],
    "plait.launchers.launchers": [n for n in plait.launchers.__all__ if n != "BadLauncher"],
    "plait.launchers.base": ["Launcher"],
    "plait.launchers.errors": ["BadLauncher"],
}


@pytest.mark.parametrize(("path", "names"), sorted(PATHS.items()))
def test_parsl_path_reexports_the_same_objects(path: str, names: list[str]) -> None:
    module = importlib.import_module(path)
    assert sorted(module.__all__) == sorted(names)
    package = plait.providers if path.startswith("plait.providers") else plait.launchers
    for name in names:
        assert getattr(module, name) is getattr(package, name)
