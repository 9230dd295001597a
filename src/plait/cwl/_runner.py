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
    from plait.cwl._errors import CWLError
    from plait.cwl._executor import EarlyKernel, load_config, make_executor

    parser = build_parser(prog)
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    config = None
    if args.config is not None:
        try:
            config = load_config(args.config)
        except CWLError as exc:
            print(f"{prog}: {exc}", file=sys.stderr)
            return 1
    del args.config
    args.parallel = True
    # CWL allows any character in file names; cwltool's strict check refuses some (the
    # conformance test `filename_with_hash_mark`), so the runner relaxes it by default.
    args.relax_path_checks = True
    if not args.version:
        from plait.cwl import _schemas

        _schemas.preload()
    early = EarlyKernel(config) if config is not None and _runs_jobs(args) else None
    try:
        status: int = cwltool.main.main(args=args, executor=make_executor(config, early),
                                        versionfunc=version)
    finally:
        if early is not None:
            early.close()
    return status


#: cwltool options that only load, print or check the document: no kernel for them
_NO_RUN_OPTIONS = ("validate", "pack", "make_template", "version", "print_rdf", "print_dot",
                   "print_pre", "print_deps", "print_input_deps", "print_supported_versions",
                   "print_subgraph", "print_targets")


def _runs_jobs(args: argparse.Namespace) -> bool:
    return not any(getattr(args, option, False) for option in _NO_RUN_OPTIONS)


def console_main() -> None:
    """Entry point of the ``plait-cwl-runner`` console script."""
    sys.exit(main())
