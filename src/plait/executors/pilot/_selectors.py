"""Manager selectors: the order in which the interchange offers tasks to ready managers.

The interchange applies the choice itself (``by_block_id`` in its settings); these classes
are what a config names, as in Parsl, and ``sort_managers`` states each order as a function.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any


class ManagerSelector(ABC):
    """Chooses the order in which ready managers are offered tasks."""

    @abstractmethod
    def sort_managers(self, ready_managers: Mapping[Any, Mapping[str, Any]],
                      manager_list: Iterable[Any]) -> list[Any]:
        """``manager_list`` in the order to offer tasks; ``ready_managers`` maps each
        manager id to its record (with at least ``block_id``)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class RandomManagerSelector(ManagerSelector):
    """A random order each time, so load spreads over managers (the default)."""

    def sort_managers(self, ready_managers: Mapping[Any, Mapping[str, Any]],
                      manager_list: Iterable[Any]) -> list[Any]:
        managers = list(manager_list)
        random.shuffle(managers)
        return managers


class BlockIdManagerSelector(ManagerSelector):
    """Managers of the lowest block id first, so later blocks empty and can be scaled in."""

    def sort_managers(self, ready_managers: Mapping[Any, Mapping[str, Any]],
                      manager_list: Iterable[Any]) -> list[Any]:
        def block(manager: Any) -> tuple[int, str]:
            block_id = str(ready_managers[manager].get("block_id", ""))
            return (int(block_id), "") if block_id.isdigit() else (1 << 62, block_id)

        return sorted(manager_list, key=block)
