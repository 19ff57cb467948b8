"""``dosim run FILE``: run a Python file the way the docs site runs its code blocks.

Every block on the site is a script whose top-level statements may ``await``; saved as a
file, such a block runs with ``dosim run block.py``. The file is compiled with
``ast.PyCF_ALLOW_TOP_LEVEL_AWAIT``: when it awaits at the top level it runs on an
asyncio event loop (``asyncio.run``), otherwise it runs as ``python FILE`` would, so a
script that calls ``asyncio.run`` itself works too. As under ``python FILE``,
``__name__`` is ``"__main__"``, ``sys.argv`` is the file and the arguments after it, and
the file's folder comes first on ``sys.path``. ``workers`` and ``js`` resolve to dosim's
(as in the browser sandbox and under the pytest plugin), so app code imports them as it
does on Cloudflare.

An error prints a traceback that starts at the file's own code (not in this runner or in
asyncio) and makes the exit status 1; ``sys.exit(n)`` exits with ``n``.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import sys
import traceback
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..loader import install_workers_alias

__all__ = ["run_file"]

FLAGS = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT


def _print_error(error: BaseException, filename: str) -> None:
    """Print ``error`` as Python would, from the first frame in ``filename`` on."""
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != filename:
        tb = tb.tb_next
    if tb is not None:
        error = error.with_traceback(tb)
    traceback.print_exception(error, file=sys.stderr)


def _exit_status(code: Any) -> int:
    """The exit status of ``sys.exit(code)``, printing a message as the interpreter does."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def run_file(path: str | Path, args: Sequence[str] = ()) -> int:
    """Run the Python file ``path`` as ``__main__``, with top-level ``await`` allowed.

    Args:
        path: The file to run.
        args: What the file finds after its own name in ``sys.argv``.

    Returns:
        The exit status: 0, 1 after an uncaught exception (its traceback is printed to
        stderr), 2 if the file cannot be read, or what ``sys.exit`` was given.
    """
    path = Path(path)
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        print(f"dosim run: cannot read {path}: {error}", file=sys.stderr)
        return 2
    filename = str(path)
    try:
        code = compile(source, filename, "exec", flags=FLAGS, dont_inherit=True)
    except SyntaxError as error:
        sys.stderr.write("".join(traceback.format_exception_only(error)))
        return 1

    install_workers_alias()
    module = types.ModuleType("__main__")
    module.__file__ = filename
    module.__builtins__ = __builtins__  # type: ignore[attr-defined]
    saved_main, saved_argv, saved_path = sys.modules.get("__main__"), sys.argv, sys.path[:]
    # As ``python FILE`` sets them: classes defined in the file belong to a real
    # ``__main__`` module (pickle, dataclasses and the like look them up there).
    sys.modules["__main__"] = module
    sys.argv = [filename, *args]
    sys.path.insert(0, str(path.resolve().parent))
    try:
        result = eval(code, module.__dict__)  # noqa: S307 - running the file is the point
        if code.co_flags & inspect.CO_COROUTINE:
            asyncio.run(result)
    except SystemExit as stop:
        return _exit_status(stop.code)
    except KeyboardInterrupt:
        print("KeyboardInterrupt", file=sys.stderr)
        return 130
    except BaseException as error:  # noqa: BLE001 - the file's error: print it, exit 1
        _print_error(error, filename)
        return 1
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
        if saved_main is not None:
            sys.modules["__main__"] = saved_main
    return 0
