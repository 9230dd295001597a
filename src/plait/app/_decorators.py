"""The app decorators: python_app, bash_app and join_app, and the app objects they make."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, overload

from plait._errors import ConfigurationError
from plait.app._bash import SPECIAL_KWARGS, run_bash_app
from plait.dataflow._loader import DataFlowKernelLoader

if TYPE_CHECKING:
    from plait.dataflow._futures import AppFuture
    from plait.dataflow._kernel import DataFlowKernel

#: special keyword arguments whose signature defaults Python apps honour (Parsl's rule)
PYTHON_DEFAULTED = ("stdout", "stderr", "walltime", "parsl_resource_specification",
                    "outputs", "inputs")


class AppBase:
    """What the decorators return: calling it submits a task and returns its AppFuture."""

    def __init__(
        self, func: Callable[..., Any], data_flow_kernel: DataFlowKernel | None = None,
        executors: str | Sequence[str] = "all", cache: bool = False,
        ignore_for_cache: Sequence[str] | None = None,
    ) -> None:
        if not callable(func):
            raise TypeError(f"an app decorates a function, not {type(func).__name__}")
        if executors != "all" and (
            isinstance(executors, str) or not isinstance(executors, (list, tuple))
            or not all(isinstance(e, str) for e in executors)
        ):
            raise ConfigurationError("executors", executors,
                                     "'all' or a list of executor labels")
        functools.update_wrapper(self, func)  # type: ignore[arg-type]
        if "__name__" not in vars(self):  # functools.partial and callable objects have none
            self.__name__ = callable_name(func)
        self.func = func
        self.data_flow_kernel = data_flow_kernel
        self.executors = executors if executors == "all" else list(executors)
        self.cache = cache
        self.ignore_for_cache = list(ignore_for_cache or ())
        import inspect  # here, not at module level: keeps `import plait` fast

        params = inspect.signature(func).parameters
        takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
        #: keyword names the function accepts (None: it takes **kwargs)
        self.accepted = None if takes_any else frozenset(params)
        self.kwargs: dict[str, Any] = {
            name: p.default for name, p in params.items()
            if p.default is not p.empty and self._copies_default(name)}

    def _copies_default(self, name: str) -> bool:
        return name in PYTHON_DEFAULTED

    def _kernel(self) -> DataFlowKernel:
        return self.data_flow_kernel or DataFlowKernelLoader.dfk()

    def _merge(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        return {**self.kwargs, **kwargs} if self.kwargs else kwargs

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.__name__}>"

    __name__: str


class PythonApp(AppBase):
    """A Python function run as a task."""

    def __init__(self, func: Callable[..., Any], join: bool = False, **options: Any) -> None:
        super().__init__(func, **options)
        self.join = join
        self._timed = functools.partial(_run_timed, func, self.__name__, self.accepted)
        undeclared = () if self.accepted is None else SPECIAL_KWARGS - self.accepted
        self._undeclared = frozenset(undeclared) - {"walltime"}

    def __call__(self, *args: Any, **kwargs: Any) -> AppFuture:
        kwargs = self._merge(kwargs)
        runner: Callable[..., Any] = self.func
        drop: Sequence[str] = ()
        if kwargs:
            if "walltime" in kwargs:
                runner = self._timed
            drop = [k for k in self._undeclared if k in kwargs]
        return self._kernel().submit(
            runner, args, kwargs, func_name=self.__name__, executors=self.executors,
            cache=self.cache, ignore_for_cache=self.ignore_for_cache, join=self.join,
            drop=drop)


class BashApp(AppBase):
    """A function returning a command line, run with /bin/bash as a task."""

    def __init__(self, func: Callable[..., Any], **options: Any) -> None:
        super().__init__(func, **options)
        self._runner = functools.partial(run_bash_app, func, self.__name__, self.accepted)

    def _copies_default(self, name: str) -> bool:
        return True  # every default, so format strings see them (Parsl's rule)

    def __call__(self, *args: Any, **kwargs: Any) -> AppFuture:
        return self._kernel().submit(
            self._runner, args, self._merge(kwargs), func_name=self.__name__,
            executors=self.executors, cache=self.cache, ignore_for_cache=self.ignore_for_cache)


def _run_timed(func: Callable[..., Any], name: str, accepted: frozenset[str] | None,
               *args: Any, **kwargs: Any) -> Any:
    from plait.app._walltime import call_with_walltime  # loads the timer only when used

    seconds = kwargs["walltime"]
    if accepted is not None and "walltime" not in accepted:
        kwargs = {k: v for k, v in kwargs.items() if k != "walltime"}
    return call_with_walltime(func, seconds, name, args, kwargs)


def callable_name(func: Callable[..., Any]) -> str:
    """The name an app takes from a callable: ``partial(f, 1)`` is ``f``, an object its class."""
    while isinstance(func, functools.partial):
        func = func.func
    return getattr(func, "__name__", None) or type(func).__name__


AppDecorator = Callable[[Callable[..., Any]], Any]


def _decorator(make: Callable[..., AppBase], function: Callable[..., Any] | None,
               **options: Any) -> Any:
    """``make(function, **options)`` now (bare decorator), or a decorator that does it."""
    def decorate(func: Callable[..., Any]) -> AppBase:
        return make(func, **options)

    return decorate(function) if function is not None else decorate


@overload
def python_app(function: Callable[..., Any]) -> PythonApp: ...
@overload
def python_app(function: None = None, data_flow_kernel: DataFlowKernel | None = None,
               cache: bool = False, executors: str | Sequence[str] = "all",
               ignore_for_cache: Sequence[str] | None = None) -> AppDecorator: ...
def python_app(function: Callable[..., Any] | None = None,
               data_flow_kernel: DataFlowKernel | None = None, cache: bool = False,
               executors: str | Sequence[str] = "all",
               ignore_for_cache: Sequence[str] | None = None) -> Any:
    """Make a Python function an app: calling it returns an AppFuture at once.

    Args:
        function: the function (when used as ``@python_app`` without parentheses).
        data_flow_kernel: the kernel to submit to (default: the loaded one, at call time).
        cache: memoize results of calls with the same arguments (needs app caching on).
        executors: ``'all'`` or the labels of the executors that may run it.
        ignore_for_cache: keyword arguments left out of the memoization hash.
    """
    return _decorator(PythonApp, function, data_flow_kernel=data_flow_kernel, cache=cache,
                      executors=executors, ignore_for_cache=ignore_for_cache)


@overload
def bash_app(function: Callable[..., Any]) -> BashApp: ...
@overload
def bash_app(function: None = None, data_flow_kernel: DataFlowKernel | None = None,
             cache: bool = False, executors: str | Sequence[str] = "all",
             ignore_for_cache: Sequence[str] | None = None) -> AppDecorator: ...
def bash_app(function: Callable[..., Any] | None = None,
             data_flow_kernel: DataFlowKernel | None = None, cache: bool = False,
             executors: str | Sequence[str] = "all",
             ignore_for_cache: Sequence[str] | None = None) -> Any:
    """Make a function that returns a command line an app that runs it with /bin/bash.

    The task's result is the exit code (0); a non-zero exit fails it with BashExitFailure.
    ``stdout=``/``stderr=`` redirect the output (path, ``(path, mode)`` or File),
    ``walltime=`` bounds the run time, ``outputs=`` files are checked to exist. Arguments
    as for :func:`python_app`.
    """
    return _decorator(BashApp, function, data_flow_kernel=data_flow_kernel, cache=cache,
                      executors=executors, ignore_for_cache=ignore_for_cache)


@overload
def join_app(function: Callable[..., Any]) -> PythonApp: ...
@overload
def join_app(function: None = None, data_flow_kernel: DataFlowKernel | None = None,
             cache: bool = False,
             ignore_for_cache: Sequence[str] | None = None) -> AppDecorator: ...
def join_app(function: Callable[..., Any] | None = None,
             data_flow_kernel: DataFlowKernel | None = None, cache: bool = False,
             ignore_for_cache: Sequence[str] | None = None) -> Any:
    """Make an app whose body returns a future (or list of futures) of other apps.

    The body runs on the kernel's internal threads; the join app's future completes with
    the result (or list of results) of the returned futures, or fails with JoinError.
    """
    return _decorator(PythonApp, function, join=True, data_flow_kernel=data_flow_kernel,
                      cache=cache, ignore_for_cache=ignore_for_cache)
