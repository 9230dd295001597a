"""PlaitJobExecutor: the cwltool ``JobExecutor`` that hands the whole run to plait's engine.

cwltool's front end (argument parsing, document loading and validation, the input object,
output relocation, the output JSON, exit codes) calls ``run_jobs(process, inputs)``; this
class starts a DataFlowKernel from the plait config, submits the process through
:class:`~plait.cwl._engine.Engine` and waits for its outputs. Nothing of cwltool's own
scheduling runs.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
from concurrent.futures import Future
from typing import Any

from plait.cwl._containers import check_containers, container_engine
from plait.cwl._errors import CWLError, CWLUnsupportedRequirement
from plait.cwl._jobs import JobSettings


def make_executor(config: Any = None, early: EarlyKernel | None = None) -> Any:
    """A cwltool JobExecutor that runs on ``config`` (a plait Config; None: the local
    default, made per run), on the kernel ``early`` started for it if given."""
    from cwltool.executors import JobExecutor

    class PlaitJobExecutor(JobExecutor):
        """Runs a cwltool-loaded process on plait's dataflow."""

        def run_jobs(self, process: Any, job_order_object: Any, logger: Any,
                     runtime_context: Any) -> None:
            outputs, status = run_on_plait(process, job_order_object, runtime_context,
                                           config, self.output_dirs, logger, early)
            # What cwltool does next with the context is move the outputs to --outdir.
            from cwltool.pathmapper import PathMapper

            if runtime_context.path_mapper is PathMapper:
                from plait.cwl import _relocation

                runtime_context.path_mapper = _relocation.RelocationMapper
                _relocation.install()
            self.final_output.append(outputs)
            self.final_status.append(status)

    return PlaitJobExecutor()


class EarlyKernel:
    """A DataFlowKernel for ``config``, started on a thread of its own while cwltool loads
    and validates the document: the pilot's processes start meanwhile, not after.

    ``take()`` hands the kernel to the run (which cleans it up); ``close()`` cleans up a
    kernel nobody took (the document was invalid, say), so no process is left behind.
    """

    def __init__(self, config: Any) -> None:
        self._kernel: Future[Any] = Future()
        self._taken = False
        threading.Thread(target=self._start, args=(config,), name="plait-cwl-kernel-start",
                         daemon=True).start()

    def _start(self, config: Any) -> None:
        from plait.dataflow.dflow import DataFlowKernel

        try:
            self._kernel.set_result(DataFlowKernel(config))
        except BaseException as exc:
            self._kernel.set_exception(exc)

    def take(self) -> Any:
        """The started kernel (its start's error if it failed); the caller cleans it up."""
        self._taken = True
        return self._kernel.result()

    def close(self) -> None:
        """Clean up the kernel if no run took it."""
        if not self._taken and self._kernel.exception() is None:
            self._kernel.result().cleanup()


def load_config(config_path: str) -> Any:
    """``config`` from a CONFIG.py file (``plait cwl run --config``)."""
    import runpy

    from plait._config import Config

    try:
        namespace = runpy.run_path(config_path)
    except OSError as exc:
        raise CWLError(f"--config {config_path}: cannot read it: {exc}") from None
    except Exception as exc:  # the user's file failed: say where, keep its own words
        raise CWLError(f"--config {config_path} failed: {type(exc).__name__}: {exc}") from exc
    config = namespace.get("config")
    if not isinstance(config, Config):
        raise CWLError(f"--config {config_path} must define `config = plait.Config(...)`; "
                       f"it defines {type(config).__name__}")
    return config


def local_config(run_dir: str) -> Any:
    """The runner's default: one thread per core (tool jobs wait on their processes, as
    with cwltool --parallel), the run directory inside the run's temporary directory."""
    from plait._config import Config
    from plait.executors import ThreadPoolExecutor

    threads = ThreadPoolExecutor(label="cwl-threads", max_threads=max(2, os.cpu_count() or 1))
    return Config(executors=[threads], run_dir=run_dir)


def run_on_plait(process: Any, job_order: Any, runtime_context: Any, config: Any,
                 output_dirs: set[str], logger: logging.Logger,
                 early: EarlyKernel | None = None) -> tuple[Any, str]:
    """Run ``process`` to completion on a new DataFlowKernel (or the one ``early`` started);
    return (outputs, status)."""
    from cwltool.errors import UnsupportedRequirement

    from plait.cwl._engine import Engine
    from plait.dataflow.dflow import DataFlowKernel

    engine_name = container_engine(runtime_context, process)
    try:
        check_containers(process, engine_name)
    except CWLUnsupportedRequirement as exc:
        raise UnsupportedRequirement(str(exc)) from None
    kernel = early.take() if early is not None and config is not None else None
    out_prefix = runtime_context.tmp_outdir_prefix or runtime_context.tmpdir_prefix
    root = tempfile.mkdtemp(prefix=os.path.basename(out_prefix),
                            dir=os.path.dirname(out_prefix) or None)
    output_dirs.add(root)
    context = runtime_context.copy()
    context.tmp_outdir_prefix = os.path.join(root, "job-")
    context.outdir = None
    context.use_container = engine_name is not None
    local = config is None
    if config is None:
        # Beside the jobs' directories, not inside: cwltool removes those at the end even
        # after a failure, and the failed jobs' stdout/stderr files named in the error live
        # here (kept after a failure, removed after a success).
        config = local_config(tempfile.mkdtemp(prefix="plait-run-",
                                               dir=os.path.dirname(root) or None))
    failure: BaseException | None = None
    with kernel if kernel is not None else DataFlowKernel(config) as dfk:
        settings = JobSettings.from_runtime_context(context, os.path.join(dfk.run_dir, "cwl"))
        engine = Engine(dfk, context, settings)
        try:
            outputs = engine.run(process, job_order).result()
        except Exception as exc:
            failure = exc
        if runtime_context.rm_tmpdir:
            engine.job_dirs.remove_temporary()
    run_dir = config.run_dir if local else None
    if failure is None:
        if run_dir is not None and runtime_context.rm_tmpdir:
            shutil.rmtree(run_dir, ignore_errors=True)
        return outputs, "success"
    root_cause = engine.first_failure or getattr(failure, "root_cause", None) or failure
    if isinstance(root_cause, CWLUnsupportedRequirement):
        if runtime_context.rm_tmpdir:  # cwltool skips its clean-up when we raise
            for directory in (root, run_dir):
                if directory is not None:
                    shutil.rmtree(directory, ignore_errors=True)
        raise UnsupportedRequirement(str(root_cause)) from None
    logger.error("%s", describe_failure(failure, root_cause))
    if run_dir is not None:
        if _has_job_logs(run_dir):
            logger.error("plait's run directory (the jobs' logs) is kept: %s", run_dir)
        else:  # failed before any job wrote a log (bad inputs, an invalid step): nothing to keep
            shutil.rmtree(run_dir, ignore_errors=True)
    return None, "permanentFail"


def _has_job_logs(run_dir: str) -> bool:
    """Whether a job of this run wrote its stdout or stderr under ``run_dir``."""
    from pathlib import Path

    return any(path.suffix in (".stdout", ".stderr") for path in Path(run_dir).rglob("*"))


def describe_failure(failure: BaseException, root_cause: BaseException) -> str:
    """What failed first, and (if it differs) the failure plait propagated to the end."""
    if root_cause is failure:
        return f"{type(failure).__name__}: {failure}"
    chain, detail = str(failure), str(root_cause)
    if detail and detail in chain:  # plait's message quotes the root cause: not twice
        chain = chain.replace(detail, "(the error above)")
    return f"{root_cause}\n(plait: {chain})"
