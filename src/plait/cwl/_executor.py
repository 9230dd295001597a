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
from typing import Any

from plait.cwl._containers import check_containers, container_engine
from plait.cwl._errors import CWLError, CWLUnsupportedRequirement
from plait.cwl._jobs import JobSettings

log = logging.getLogger("plait.cwl")


def _job_executor_base() -> type:
    from cwltool.executors import JobExecutor

    return JobExecutor


def make_executor(config: Any = None, config_path: str | None = None) -> Any:
    """A cwltool JobExecutor running on a plait config (a Config, a CONFIG.py, or local)."""
    base = _job_executor_base()

    class PlaitJobExecutor(base):  # type: ignore[misc,valid-type]
        """Runs a cwltool-loaded process on plait's dataflow."""

        def run_jobs(self, process: Any, job_order_object: Any, logger: Any,
                     runtime_context: Any) -> None:
            outputs, status = run_on_plait(process, job_order_object, runtime_context,
                                           config, config_path, self.output_dirs, logger)
            self.final_output.append(outputs)
            self.final_status.append(status)

    return PlaitJobExecutor()


def load_config(config_path: str | None, run_dir: str) -> Any:
    """The plait Config of a CWL run: ``config`` from CONFIG.py, or the local default."""
    from plait._config import Config
    from plait.executors import ThreadPoolExecutor

    if config_path is None:
        # Tool jobs wait on subprocesses: one thread per core, like cwltool --parallel.
        threads = ThreadPoolExecutor(label="cwl-threads", max_threads=max(2, os.cpu_count() or 1))
        return Config(executors=[threads], run_dir=run_dir)
    import runpy

    try:
        namespace = runpy.run_path(config_path)
    except OSError as exc:
        raise CWLError(f"--config {config_path}: cannot read it: {exc}") from None
    config = namespace.get("config")
    if not isinstance(config, Config):
        raise CWLError(f"--config {config_path} must define `config = plait.Config(...)`; "
                       f"it defines {type(config).__name__}")
    return config


def run_on_plait(process: Any, job_order: Any, runtime_context: Any, config: Any,
                 config_path: str | None, output_dirs: set[str],
                 logger: logging.Logger) -> tuple[Any, str]:
    """Run ``process`` to completion on a new DataFlowKernel; return (outputs, status)."""
    from cwltool.errors import UnsupportedRequirement

    from plait.cwl._engine import Engine
    from plait.dataflow.dflow import DataFlowKernel

    engine_name = container_engine(runtime_context)
    try:
        check_containers(process, engine_name)
    except CWLUnsupportedRequirement as exc:
        raise UnsupportedRequirement(str(exc)) from None
    out_prefix = runtime_context.tmp_outdir_prefix or runtime_context.tmpdir_prefix
    root = tempfile.mkdtemp(prefix=os.path.basename(out_prefix),
                            dir=os.path.dirname(out_prefix) or None)
    output_dirs.add(root)
    context = runtime_context.copy()
    context.tmp_outdir_prefix = os.path.join(root, "job-")
    context.outdir = None
    context.use_container = engine_name is not None
    if config is None:
        config = load_config(config_path, os.path.join(root, "plait-run"))
    failure: BaseException | None = None
    with DataFlowKernel(config) as dfk:
        settings = JobSettings.from_runtime_context(context, os.path.join(dfk.run_dir, "cwl"))
        engine = Engine(dfk, context, settings)
        try:
            outputs = engine.run(process, job_order).result()
        except Exception as exc:
            failure = exc
    if failure is None:
        return outputs, "success"
    root_cause = getattr(failure, "root_cause", None) or failure
    if isinstance(root_cause, CWLUnsupportedRequirement):
        if runtime_context.rm_tmpdir:  # cwltool skips its clean-up when we raise
            shutil.rmtree(root, ignore_errors=True)
        raise UnsupportedRequirement(str(root_cause)) from None
    logger.error("%s", describe_failure(failure))
    if config_path is None and runtime_context.rm_tmpdir is False:
        logger.error("plait's run directory (logs) is %s", dfk.run_dir)
    return None, "permanentFail"


def describe_failure(failure: BaseException) -> str:
    """The root cause of a failed run, and the chain of tasks it failed."""
    root_cause = getattr(failure, "root_cause", None)
    if root_cause is None or root_cause is failure:
        return f"{type(failure).__name__}: {failure}"
    return f"{root_cause}\n(plait: {failure})"
