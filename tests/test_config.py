"""Config validation: a wrong field is named, with the value given and what is accepted."""

from __future__ import annotations

from typing import Any

import pytest

from plait import Config, ThreadPoolExecutor
from plait.errors import ConfigurationError


@pytest.mark.parametrize("field,value,expected", [
    ("retries", -1, "an int >= 0"),
    ("retries", "3", "an int >= 0"),
    ("exit_mode", "later", "one of 'cleanup' or 'skip' or 'wait'"),
    ("checkpoint_mode", "always", "'task_exit'"),
    ("strategy", "fast", "'simple'"),
    ("usage_tracking", 7, "from 0"),
    ("strategy_period", -1, "seconds > 0"),
    ("checkpoint_period", "30 minutes", "'HH:MM:SS'"),
    ("retry_handler", 5, "a callable"),
    ("internal_tasks_max_threads", 0, "an int >= 1"),
    ("checkpoint_files", "runinfo/000/checkpoint", "a list of checkpoint directory paths"),
    ("executors", ["not an executor"], "a list of plait executors"),
])
def test_bad_values_are_named(field: str, value: Any, expected: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        Config(**{field: value})
    assert str(info.value).startswith(f"{field}=")
    assert expected in str(info.value)


def test_duplicate_labels_are_named() -> None:
    with pytest.raises(ConfigurationError, match=r"\['a'\].*distinct labels"):
        Config(executors=[ThreadPoolExecutor(label="a"), ThreadPoolExecutor(label="a")])


def test_bad_executor_arguments() -> None:
    with pytest.raises(ConfigurationError, match="max_threads=0"):
        ThreadPoolExecutor(max_threads=0)


def test_defaults_and_mutation_checked_again_at_load(tmp_path: Any) -> None:
    import plait

    config = Config(run_dir=str(tmp_path))
    assert config.retries == 0 and config.exit_mode == "wait" and config.app_cache
    assert [e.label for e in config.executor_list] == ["threads"]
    config.retries = -5
    with pytest.raises(ConfigurationError, match="retries=-5"):
        plait.load(config)


def test_strategy_none_is_deprecated() -> None:
    with pytest.warns(DeprecationWarning, match="strategy='none'"):
        Config(strategy=None)


def test_repr_shows_non_default_fields() -> None:
    assert repr(Config(retries=2)) == "Config(retries=2)"
