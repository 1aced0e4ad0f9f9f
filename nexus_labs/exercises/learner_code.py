"""Calling the learner's code: their exceptions, `None` returns and endless loops become feedback.

A hang is stopped with SIGALRM when we are on the main thread of a Unix process (it interrupts
pure-Python loops and `time.sleep`; if learner code swallows it with a bare `except:`, the next
alarm makes every learner line raise it again), leaving the notebook's own SIGALRM handler and
any alarm it set untouched; elsewhere the call runs in a worker thread that we stop
waiting for. Coroutine functions run in a fresh event loop in a worker thread, because the
notebook's own loop is already running and cannot be re-entered.
"""

from __future__ import annotations

import asyncio
import ctypes
import inspect
import linecache
import signal
import sys
import sysconfig
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from types import CodeType, FrameType, TracebackType
from typing import Any

from nexus_labs.exercises.feedback import Incorrect, NotAttempted
from nexus_labs.exercises.placeholder import is_placeholder

_PACKAGE_DIR = str(Path(__file__).resolve().parents[1])
_LIBRARY_DIRS = tuple(
    {str(Path(p).resolve()) for key in ("stdlib", "platstdlib", "purelib", "platlib")
     if (p := sysconfig.get_paths().get(key))}
)


class LearnerTimeout(BaseException):
    """Raised inside learner code when its time is up.

    A BaseException, so an `except Exception` in the learner's loop does not swallow it.
    """


def name_of(fn: object) -> str:
    return getattr(fn, "__name__", None) or type(fn).__name__


def is_learner_file(filename: str) -> bool:
    """True for code the learner wrote: an IPython cell, or any file outside nexus_labs and
    the Python installation (stdlib, site-packages)."""
    if filename.startswith("<"):
        return not filename.startswith("<frozen")  # "<ipython-input-3-..>", "<learner-cell-1>"
    resolved = str(Path(filename).resolve())
    if resolved.startswith(_PACKAGE_DIR):
        return False
    return not resolved.startswith(_LIBRARY_DIRS)


def _cell_name(filename: str) -> str:
    # ipykernel names cells /tmp/ipykernel_<pid>/<hash>.py; older IPython <ipython-input-N-..>
    if "ipykernel_" in filename or filename.startswith(("<ipython-input", "<learner-cell")):
        return "your cell"
    return Path(filename).name


def learner_line(tb: TracebackType | None) -> str:
    """`line 3 in your cell: return cache[key]` for the deepest frame of learner code."""
    found = None
    for frame_summary in traceback.extract_tb(tb):
        if is_learner_file(frame_summary.filename):
            found = frame_summary
    if found is None:
        return ""
    text = (found.line or linecache.getline(found.filename, found.lineno or 0)).strip()
    where = f"line {found.lineno} in {_cell_name(found.filename)}"
    if found.name not in ("<module>", None):
        where += f" ({found.name})"
    return f"{where}: {text}" if text else where


def describe_exception(error: BaseException, fn_name: str) -> Incorrect:
    """An Incorrect that names the exception and the learner's own line, not our traceback."""
    summary = "".join(traceback.format_exception_only(type(error), error)).strip()
    return Incorrect(f"{fn_name} raised {summary}", detail=learner_line(error.__traceback__))


def references_placeholder(code: CodeType) -> bool:
    """True when a function's code (or a nested function's) still reads the name `____`."""
    if "____" in code.co_names:
        return True
    return any(isinstance(c, CodeType) and references_placeholder(c) for c in code.co_consts)


def _timeout_message(fn_name: str, timeout: float) -> Incorrect:
    return Incorrect(
        f"{fn_name} did not finish within the {timeout:g} s time limit. Look for a loop that "
        "never ends, or a wait (sleep, lock, network call) with no timeout."
    )


def _main_thread_with_alarm() -> bool:
    return (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getitimer(signal.ITIMER_REAL)[0] == 0  # someone else's alarm: don't clobber
    )


def _raise_in_learner_frames(frame, event, arg):
    """A trace function: every line of learner code raises LearnerTimeout, including the lines
    of an `except:` / `except BaseException:` handler that swallowed the previous one."""
    if not is_learner_file(frame.f_code.co_filename):
        return None
    if event == "line":
        raise LearnerTimeout
    return _raise_in_learner_frames


def _trace_learner_frames(frame: FrameType | None, stop: FrameType) -> None:
    """Make `frame` and its callers up to `stop` (ours) raise on their next line."""
    sys.settrace(_raise_in_learner_frames)  # frames the learner code starts from now on
    while frame is not None and frame is not stop:
        if is_learner_file(frame.f_code.co_filename):
            frame.f_trace = _raise_in_learner_frames
        frame = frame.f_back


def _run_with_alarm(fn: Callable[[], Any], timeout: float) -> Any:
    active = True
    alarms = 0
    here = sys._getframe()
    previous_trace = sys.gettrace()

    def on_alarm(signum, frame):
        nonlocal alarms
        if not active:
            return
        alarms += 1
        if alarms > 1:
            # The learner swallowed the first LearnerTimeout (a bare `except:` in a retry
            # loop): from now on every line of their code raises it again, so it escapes.
            _trace_learner_frames(frame, here)
        raise LearnerTimeout

    previous = signal.signal(signal.SIGALRM, on_alarm)
    # The repeat interval re-raises if learner code swallowed the first one with a bare except.
    signal.setitimer(signal.ITIMER_REAL, timeout, 0.5)
    try:
        return fn()
    finally:
        active = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        # None: the previous handler was not set from Python; the default is all we can restore
        signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)
        if alarms > 1:
            sys.settrace(previous_trace)


def _run_in_thread(fn: Callable[[], Any], timeout: float) -> Any:
    box: dict[str, Any] = {}

    def target():
        try:
            box["value"] = fn()
        except LearnerTimeout:
            box["timeout"] = True
        except BaseException as error:
            box["error"] = error

    worker = threading.Thread(target=target, name="nexus-learner-code", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        # Best effort: a pure-Python loop stops at its next bytecode; a blocking C call cannot
        # be interrupted and finishes in the background (the thread is a daemon).
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(worker.ident), ctypes.py_object(LearnerTimeout)
        )
        raise LearnerTimeout
    if "timeout" in box:
        raise LearnerTimeout
    if "error" in box:
        raise box["error"]
    return box.get("value")


def _run_coroutine(fn: Callable[..., Any], args: tuple, kwargs: dict, timeout: float) -> Any:
    timed_out = object()

    async def runner():
        task = asyncio.ensure_future(fn(*args, **kwargs))
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done:
            task.cancel()
            await asyncio.wait({task}, timeout=1.0)
            return timed_out
        return task.result()

    def in_fresh_loop():
        result = asyncio.run(runner())
        if result is timed_out:
            raise LearnerTimeout
        return result

    # A blocking call inside the coroutine (time.sleep) also stalls the loop's own timeout:
    # the thread join with a little slack is the backstop.
    return _run_in_thread(in_fresh_loop, timeout + 1.0)


def call_learner(
    fn: Callable[..., Any],
    args: tuple = (),
    kwargs: dict | None = None,
    *,
    timeout: float = 5.0,
    allow_none: bool = False,
    name: str | None = None,
) -> Any:
    """Run learner code and return its result, or raise Incorrect / NotAttempted saying why.

    Args:
        fn: the learner's function (sync or `async def`).
        args, kwargs: what to call it with.
        timeout: seconds before the call is stopped and reported as a hang.
        allow_none: accept `None` as a result (functions that only have side effects).
        name: how to call the function in messages (defaults to its `__name__`).
    """
    kwargs = kwargs or {}
    fn_name = name or name_of(fn)
    if not callable(fn):
        raise Incorrect(
            f"{fn_name} should be a function (def {fn_name}(...): ...), "
            f"but it is {type(fn).__name__}: {_short_repr(fn)}"
        )
    code = getattr(fn, "__code__", None)
    if isinstance(code, CodeType) and references_placeholder(code):
        raise NotAttempted(f"{fn_name} still contains ____: replace it with your code.")
    try:
        if inspect.iscoroutinefunction(fn):
            result = _run_coroutine(fn, args, kwargs, timeout)
        elif _main_thread_with_alarm():
            result = _run_with_alarm(lambda: fn(*args, **kwargs), timeout)
        else:
            result = _run_in_thread(lambda: fn(*args, **kwargs), timeout)
        if inspect.isawaitable(result):  # a plain def that returned a coroutine
            awaitable = result
            result = _run_coroutine(lambda: awaitable, (), {}, timeout)
    except LearnerTimeout:
        raise _timeout_message(fn_name, timeout) from None
    except (Incorrect, NotAttempted):
        raise
    except (Exception, SystemExit) as error:  # sys.exit() / exit() in a cell must not end it
        raise describe_exception(error, fn_name) from None
    if is_placeholder(result):
        raise NotAttempted(f"{fn_name} still returns ____: replace it with your answer.")
    if result is None and not allow_none:
        raise Incorrect(
            f"{fn_name} returned None. Did you forget `return`? (A function without a "
            "return statement, or one that only prints, gives None.)"
        )
    return result


def _short_repr(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def current_user_namespace(depth: int = 2) -> dict:
    """The notebook's namespace (IPython user_ns), else the globals of the caller's caller."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        shell = None
    if shell is not None:
        return shell.user_ns
    return sys._getframe(depth).f_globals
