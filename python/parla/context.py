"""`with Parla():` — the scope of a runtime."""

from __future__ import annotations

import atexit
import os
import sys
import threading
import traceback

from parla import _parla
from parla.tasks import DependencyError


# More worker threads than this is a mistake (each is an OS thread).
_MAX_WORKERS = 65536


def _worker_count(n_workers) -> int:
    if n_workers is None:
        text = os.environ.get("PARLA_NUM_THREADS")
        if text is None:
            return os.cpu_count() or 1
        try:
            n = int(text.strip())
        except ValueError:
            n = 0
        if not 0 < n <= _MAX_WORKERS:
            raise ValueError(f"PARLA_NUM_THREADS must be a whole number of worker threads from 1 to {_MAX_WORKERS}, got {text!r}")
        return n
    if isinstance(n_workers, bool) or not isinstance(n_workers, int):
        raise TypeError(f"n_workers must be a positive int, got {n_workers!r}")
    if not 0 < n_workers <= _MAX_WORKERS:
        raise ValueError(f"n_workers must be from 1 to {_MAX_WORKERS}, got {n_workers}")
    return n_workers


def _root_failures(failures):
    """The failed tasks, less those that failed only because what they
    awaited failed (unless that is all of them)."""
    return [(t, e) for t, e in failures if not isinstance(e, DependencyError)] or failures


def _note_once(error: BaseException, note: str) -> None:
    """Adds `note`, unless `error` has it already (one exception object
    raised again, in another task or another block)."""
    notes = getattr(error, "__notes__", [])
    if not isinstance(notes, list):
        # add_note would raise TypeError instead: the task's own
        # exception, without the note, is what matters.
        return
    if note not in notes:
        error.add_note(note)


def _failure(failures):
    """The exception to raise for the failed tasks: the original exception
    (with a note naming its task) for one, an ExceptionGroup for several
    (a BaseExceptionGroup if one is not an Exception, e.g. SystemExit).
    Tasks that failed only because what they awaited failed are not
    repeated."""
    roots = _root_failures(failures)
    for task, error in roots:
        _note_once(error, f"raised in {task!r}")
    if len(roots) == 1:
        return roots[0][1]
    return BaseExceptionGroup(f"{len(roots)} Parla tasks failed", [e for _, e in roots])


def _text_of(error: BaseException) -> str:
    """`str(error)`, or what Python's own traceback printer says when
    that fails: a broken `__str__` must not replace the exception leaving
    the block."""
    try:
        return str(error)
    except Exception:
        return "<exception str() failed>"


def _tell_failures(leaving: BaseException, failures, own: bool) -> None:
    """Task failures must not vanish behind another exception leaving the
    block: each gets a note on it, and when that exception is the block's
    own (a deadlock, often caused by the failure; Ctrl-C) the failures
    become its context, so that their tracebacks print too."""
    for task, error in _root_failures(failures):
        _note_once(leaving, f"meanwhile {task!r} failed: {type(error).__name__}: {_text_of(error)}")
    if own and leaving.__context__ is None:
        leaving.__context__ = _failure(failures)


def _report_outlived_failure(task, error) -> None:
    """A task that outlived its block (an exception left it and the grace
    passed) failed after the block reported its failures: printed to
    stderr, as Python prints an exception that ends a plain thread."""
    print(f"parla: {task!r} failed after its `with Parla()` block had ended:", file=sys.stderr)
    if isinstance(error, BaseException):
        traceback.print_exception(error, file=sys.stderr)
    else:
        print(f"  {_text_of(error)}", file=sys.stderr)


def _wait_for_running_tasks() -> None:
    """At interpreter exit: waits for tasks still running after their block
    ended (an exception left it and the grace passed), as Python waits for
    non-daemon threads. A worker that resumed a task in a finalizing
    interpreter would be ended mid-task, and the process aborted."""
    if _parla.join_detached_workers(0.0):
        print("parla: waiting for tasks still running after their `with Parla()` block ended", file=sys.stderr)
        try:
            _parla.join_detached_workers()
        except KeyboardInterrupt:
            # Finalizing the interpreter under tasks that still run Python
            # would abort the process: a second Ctrl-C ends it here.
            print("parla: interrupted; exiting without waiting for those tasks", file=sys.stderr)
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(130)


atexit.register(_wait_for_running_tasks)


class _ParlaType(type):
    """Lets `with Parla:` (the class itself) work like `with Parla():`."""

    def __enter__(cls):
        instance = cls()
        entered = instance.__enter__()
        # Only once entered: a nested block's failed entry leaves the
        # running one in place.
        cls._entered.append(instance)
        return entered

    def __exit__(cls, *exc):
        return cls._entered.pop().__exit__(*exc)


class Parla(metaclass=_ParlaType):
    """Starts the runtime on entry and waits for every task on exit.

    `n_workers`: worker threads (default: PARLA_NUM_THREADS, else the
    machine's cores). `trace`: a path to write a Chrome trace-event file to
    (default: PARLA_TRACE). `logfile` (default: PARLA_LOGFILE), the
    original's log, is where the trace goes when `trace` is not given:
    this runtime's log of a run is its trace."""

    _entered: list = []

    def __init__(self, n_workers: int | None = None, trace: str | os.PathLike | None = None,
                 logfile: str | os.PathLike | None = None):
        self.n_workers = _worker_count(n_workers)
        if trace is not None and logfile is not None and os.fspath(logfile) != os.fspath(trace):
            raise ValueError("Parla(trace=..., logfile=...) name two files for one trace: give one")
        if trace is None:
            trace = logfile or os.environ.get("PARLA_TRACE") or os.environ.get("PARLA_LOGFILE") or None
        self.trace = os.fspath(trace) if trace is not None else None
        self._runtime = None

    def _write_trace(self, trace: str, failures) -> None:
        """Writes the trace; a failure to write it does not hide the
        tasks' failures (they are its context, and noted)."""
        try:
            with open(self.trace, "w", encoding="utf-8") as file:
                file.write(trace)
        except OSError as error:
            if failures:
                _tell_failures(error, failures, own=True)
            raise

    def __enter__(self) -> "Parla":
        if self._runtime is not None:
            raise RuntimeError("this Parla context is already running")
        if self.trace is not None:
            # An unwritable path is found now, not after the block's work.
            open(self.trace, "w", encoding="utf-8").close()
        # Workers run task bodies with the stack Python threads get
        # (threading.stack_size(), where the program set one).
        self._runtime = _parla.Runtime(self.n_workers, trace=self.trace is not None,
                                       stack_bytes=threading.stack_size())
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        runtime, self._runtime = self._runtime, None
        leaving = exc
        try:
            if exc_type is None:
                try:
                    runtime.wait()
                except BaseException as error:
                    # Ctrl-C, or a graph that can never finish: stop now.
                    runtime.cancel()
                    leaving = error
                    raise
            else:
                runtime.cancel()
        finally:
            # Tasks get a grace to finish once the block's work is done;
            # less when it is left by an exception (Ctrl-C, a deadlock).
            trace = runtime.close(grace=5.0 if leaving is None else 1.0)
            failures = runtime.failures()
            if failures and leaving is not None:
                _tell_failures(leaving, failures, own=leaving is not exc)
            if trace is not None and self.trace is not None:
                self._write_trace(trace, failures)
        if exc_type is None and failures:
            raise _failure(failures)
        return False
