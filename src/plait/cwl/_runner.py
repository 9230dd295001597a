"""The cwl-runner command line: cwltool's interface, plait's engine underneath.

``plait cwl run`` and ``plait-cwl-runner`` take cwltool's arguments (``--outdir``,
``--basedir``, ``--tmpdir-prefix``, ``--quiet``, ...; ``--parallel`` is accepted and
implied), print the output object as JSON on stdout and exit 0 (success), 1 (failure) or
33 (an unsupported requirement). ``--config CONFIG.py`` runs the jobs on the executors of
the ``config`` that file defines (default: threads on this machine).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser(prog: str) -> argparse.ArgumentParser:
    """cwltool's argument parser, renamed, plus ``--config``."""
    from cwltool.argparser import arg_parser

    parser = arg_parser()
    parser.prog = prog
    parser.description = ("Run a CWL workflow or tool on plait (cwl-runner interface; "
                          "every step and scattered job is a plait task).")
    parser.add_argument(
        "--config", metavar="CONFIG.py", default=None,
        help="a Python file defining `config = plait.Config(...)`: run the jobs on its "
             "executors (default: threads on this machine)")
    return parser


def version() -> str:
    """What ``--version`` prints."""
    from importlib.metadata import version as dist_version

    from plait._version import __version__

    return f"plait-cwl-runner {__version__} (cwltool {dist_version('cwltool')})"


def main(argv: Sequence[str] | None = None, prog: str = "plait-cwl-runner") -> int:
    """Run the cwl-runner command; returns its exit status."""
    try:
        import cwltool.main
    except ImportError:
        print(f"{prog}: the CWL support is not installed: pip install 'plait[cwl]'",
              file=sys.stderr)
        return 1
    from plait.cwl._executor import make_executor

    parser = build_parser(prog)
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    config_path = args.config
    del args.config
    args.parallel = True
    # CWL allows any character in file names (conformance: `item #1.txt`); cwltool's strict
    # check would refuse them. plait quotes every path it passes, so it relaxes the check.
    args.relax_path_checks = True
    status: int = cwltool.main.main(args=args, executor=make_executor(config_path=config_path),
                                    versionfunc=version)
    return status


def console_main() -> None:
    """Entry point of the ``plait-cwl-runner`` console script."""
    sys.exit(main())
