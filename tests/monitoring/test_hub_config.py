"""MonitoringHub's parameters: Parsl's names and defaults, checked when it is built."""

from __future__ import annotations

import pytest

import plait
from plait.errors import ConfigurationError
from plait.monitoring import MonitoringHub


def test_parsl_parameters_and_defaults() -> None:
    hub = MonitoringHub()
    assert (hub.workflow_name, hub.workflow_version, hub.logging_endpoint) == (None,) * 3
    assert hub.resource_monitoring_enabled is True
    assert hub.resource_monitoring_interval == 30
    assert hub.monitoring_debug is False
    assert plait.MonitoringHub is MonitoringHub
    from plait.monitoring.monitoring import MonitoringHub as ParslPath

    assert ParslPath is MonitoringHub


@pytest.mark.parametrize("name", ["hub_address", "hub_port_range", "hub_port"])
def test_unused_hub_network_parameters_warn(name: str) -> None:
    with pytest.warns(DeprecationWarning, match=name):
        MonitoringHub(**{name: "127.0.0.1"})


@pytest.mark.parametrize("kwargs,field", [
    ({"logging_endpoint": "runinfo/monitoring.db"}, "logging_endpoint"),
    ({"logging_endpoint": 5}, "logging_endpoint"),
    ({"resource_monitoring_interval": -1}, "resource_monitoring_interval"),
    ({"resource_monitoring_interval": True}, "resource_monitoring_interval"),
    ({"workflow_name": 3}, "workflow_name"),
])
def test_bad_parameters_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigurationError, match=field):
        MonitoringHub(**kwargs)  # type: ignore[arg-type]


def test_config_refuses_something_else_as_monitoring() -> None:
    with pytest.raises(ConfigurationError, match="MonitoringHub"):
        plait.Config(monitoring="sqlite:///x.db")
