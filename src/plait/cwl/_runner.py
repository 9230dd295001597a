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
    from plait.cwl._errors import CWLError
    from plait.cwl._executor import EarlyKernel, load_config, make_executor

    arguments = list(sys.argv[1:] if argv is None else argv)
    # With --config the pilot's processes start before cwltool is even imported (0.2-0.3 s
    # of the run's start-up): they come up while this process imports and loads the document.
    early_path = _early_config_path(arguments)
    config = early = None
    try:
        if early_path is not None:
            try:
                config = load_config(early_path)
            except CWLError as exc:
                return _bad_config(prog, exc)
            early = EarlyKernel(config)
        try:
            import cwltool.main
        except ImportError:
            print(f"{prog}: the CWL support is not installed: pip install 'plait[cwl]'",
                  file=sys.stderr)
            return 1
        args = build_parser(prog).parse_args(arguments)
        if args.config is not None and args.config != early_path:
            try:
                config = load_config(args.config)
            except CWLError as exc:
                return _bad_config(prog, exc)
        del args.config
        args.parallel = True
        # CWL allows any character in file names; cwltool's strict check refuses some (the
        # conformance test `filename_with_hash_mark`), so the runner relaxes it by default.
        args.relax_path_checks = True
        if not args.version:
            from plait.cwl import _schemas

            _schemas.preload()
        if early is None and config is not None and _runs_jobs(args):
            early = EarlyKernel(config)
        status: int = cwltool.main.main(args=args, executor=make_executor(config, early),
                                        versionfunc=version)
    finally:
        if early is not None:
            early.close()
    return status


def _bad_config(prog: str, exc: Exception) -> int:
    """Name the --config file's problem (nothing has run); the exit status."""
    print(f"{prog}: {exc}", file=sys.stderr)
    return 1


def _early_config_path(arguments: Sequence[str]) -> str | None:
    """The ``--config`` path, read before cwltool (and its parser) is imported, if the
    command surely runs jobs; None otherwise (the parser then decides, as without it)."""
    path = None
    for i, arg in enumerate(arguments):
        if arg == "--":
            break
        if arg == "--config" and i + 1 < len(arguments):
            path = arguments[i + 1]
        elif arg.startswith("--config="):
            path = arg.partition("=")[2]
        elif arg in ("-h", "--help") or arg.lstrip("-").replace("-", "_") in _NO_RUN_OPTIONS:
            return None
    return path


#: cwltool options that only load, print or check the document: no kernel for them
_NO_RUN_OPTIONS = ("validate", "pack", "make_template", "version", "print_rdf", "print_dot",
                   "print_pre", "print_deps", "print_input_deps", "print_supported_versions",
                   "print_subgraph", "print_targets")


def _runs_jobs(args: argparse.Namespace) -> bool:
    return not any(getattr(args, option, False) for option in _NO_RUN_OPTIONS)


def console_main() -> None:
    """Entry point of the ``plait-cwl-runner`` console script."""
    sys.exit(main())
