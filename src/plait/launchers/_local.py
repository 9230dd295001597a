"""Launchers that need no parallel tool: Simple, SingleNode, Wrapped."""

from __future__ import annotations

import logging

from plait._validate import check_bool, check_str
from plait.launchers._base import Launcher, check_counts

log = logging.getLogger(__name__)


class SimpleLauncher(Launcher):
    """Runs the command once, unchanged, on the block's first node."""

    def __call__(
        self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "",
    ) -> str:
        check_counts(self, tasks_per_node, nodes_per_block)
        if nodes_per_block > 1:
            log.warning("SimpleLauncher starts one copy on the first node only, but the block "
                        "has %d nodes; use SrunLauncher or MpiExecLauncher to use them all",
                        nodes_per_block)
        return command


class WrappedLauncher(Launcher):
    """Puts ``prepend`` in front of the command (e.g. a container or ``time``); runs it once."""

    def __init__(self, prepend: str, debug: bool = True) -> None:
        super().__init__(debug=debug)
        check_str("prepend", prepend, empty=True, owner="WrappedLauncher")
        self.prepend = prepend

    def _fields(self) -> dict[str, object]:
        return {"prepend": self.prepend}

    def __call__(
        self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "",
    ) -> str:
        check_counts(self, tasks_per_node, nodes_per_block)
        if tasks_per_node > 1:
            log.warning("WrappedLauncher ignores tasks_per_node=%d and starts one copy",
                        tasks_per_node)
        if nodes_per_block > 1:
            log.warning("WrappedLauncher ignores nodes_per_block=%d and starts one copy",
                        nodes_per_block)
        return f"{self.prepend} {command}"


class SingleNodeLauncher(Launcher):
    """Starts ``tasks_per_node * nodes_per_block`` copies on the current node and waits.

    The script exits 0 unless every copy failed (or, with ``fail_on_any=True``, unless any
    copy failed); then it exits with the first failing copy's code rather than Parsl's
    constant 1, so a FAILED block reports why.
    """

    def __init__(self, debug: bool = True, fail_on_any: bool = False) -> None:
        super().__init__(debug=debug)
        check_bool("fail_on_any", fail_on_any, owner="SingleNodeLauncher")
        self.fail_on_any = fail_on_any

    def _fields(self) -> dict[str, object]:
        return {"fail_on_any": self.fail_on_any}

    def __call__(
        self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "",
    ) -> str:
        total = check_counts(self, tasks_per_node, nodes_per_block)
        return (
            "export CORES=$(getconf _NPROCESSORS_ONLN)\n"
            + self._echo("Found cores : $CORES")
            + f"WORKERCOUNT={total}\n"
            + f"FAILONANY={int(self.fail_on_any)}\n"
            + "CMD() {\n"
            + f"{command}\n"
            + "}\n"
            + "PIDS=\"\"\n"
            + "for COUNT in $(seq 1 1 $WORKERCOUNT); do\n"
            + ("    " + self._echo("Launching worker: $COUNT") if self.debug else "")
            + "    CMD $COUNT &\n"
            + "    PIDS=\"$PIDS $!\"\n"
            + "done\n"
            + "ALLFAILED=1\n"
            + "FIRSTCODE=0\n"
            + "for PID in $PIDS; do\n"
            + "    wait $PID\n"
            + "    CODE=$?\n"
            + "    if [ \"$CODE\" != 0 ]; then\n"
            + "        if [ \"$FIRSTCODE\" = 0 ]; then FIRSTCODE=$CODE; fi\n"
            + "    else\n"
            + "        ALLFAILED=0\n"
            + "    fi\n"
            + "done\n"
            + self._echo("All workers done, first failure code: $FIRSTCODE")
            + "if [ \"$FAILONANY\" = 1 ] || [ \"$ALLFAILED\" = 1 ]; then\n"
            + "    exit $FIRSTCODE\n"
            + "fi\n"
            + "exit 0\n"
        )
