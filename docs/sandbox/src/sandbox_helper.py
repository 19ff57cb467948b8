"""The Python half of the docs sandbox: runs blocks, trims tracebacks, snapshots apps.

Loaded once into the worker's interpreter as the module ``_dosim_sandbox``. The
JavaScript worker calls ``run``, ``snapshot`` and ``advance``; each returns a JSON string.

* Each block is compiled with ``ast.PyCF_ALLOW_TOP_LEVEL_AWAIT`` under the file name
  ``<block N>`` (N = the block's number on the page) and awaited, exactly as
  ``tests/test_docs.py`` runs it, in the globals of its group (or fresh ones).
* Errors are reported as the reader's own frames only, with the editor's line numbers; a
  ``ModuleNotFoundError`` also says which packages the sandbox has.
* As in a notebook, a block whose last top-level statement is a bare expression reports
  that expression's value (``"value"`` in the report, see ``describe_value``): an HTTP
  response as status, headers and body (read from a clone, so the reader's code can still
  read it), anything else but ``None`` as its ``repr``.
* ``snapshot`` finds the ``dosim.App`` instances among a namespace's globals and
  describes their objects (KV entries, SQL tables, alarm, sockets), their KV, D1 and R2
  bindings (the first rows of each table) and their trace.
"""

import ast
import inspect
import json
import re
import sys
import traceback

_namespaces = {}
_BLOCK_FILE = re.compile(r"^<block (\d+)>$")
_TRACE_LIMIT = 300
_KV_LIMIT = 50
_BODY_LIMIT = 10_000  # characters of a response body shown; the rest is cut with a note
_REPR_LIMIT = 10_000
_FLAGS = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT


def _fresh_globals(key):
    return {"__name__": "__main__", "__builtins__": __builtins__, "__sandbox__": key}


def namespace(key, fresh):
    """The globals of ``key``; ``fresh`` starts them again."""
    if fresh or key not in _namespaces:
        _namespaces[key] = _fresh_globals(key)
    return _namespaces[key]


def drop(key):
    """Forget a namespace (the page reset its group)."""
    _namespaces.pop(key, None)


def _where(filename, lineno, block):
    match = _BLOCK_FILE.match(filename or "")
    if match and int(match.group(1)) == block:
        return f"line {lineno}"
    if match:
        return f"block {match.group(1)}, line {lineno}"
    return None


def _error_report(error, block):
    """A short, reader-facing account of ``error``: own frames only, editor line numbers."""
    name = type(error).__name__
    if isinstance(error, SyntaxError) and _BLOCK_FILE.match(error.filename or ""):
        where = _where(error.filename, error.lineno, block)
        lines = [f"{name}: {error.msg} ({where})"]
        if error.text:
            text = error.text.rstrip("\n")
            stripped = text.lstrip()
            lines.append(f"    {stripped}")
            if error.offset:
                col = max(error.offset - (len(text) - len(stripped)), 1)
                end = (
                    error.end_offset if error.end_offset and error.lineno == error.end_lineno else 0
                )
                width = max(1, (end - error.offset) if end > error.offset else 1)
                lines.append("    " + " " * (col - 1) + "^" * width)
        return {"type": name, "line": error.lineno, "text": "\n".join(lines)}
    frames = []
    first_line = None
    hidden = 0
    for frame in traceback.extract_tb(error.__traceback__):
        where = _where(frame.filename, frame.lineno, block)
        if where is None:
            hidden += 1
            continue
        if first_line is None and where.startswith("line"):
            first_line = frame.lineno
        shown = f"  {where}, in {frame.name}" if frame.name != "<module>" else f"  {where}"
        frames.append(shown)
        if frame.line:
            frames.append(f"    {frame.line.strip()}")
    message = "".join(traceback.format_exception_only(type(error), error)).strip()
    lines = []
    if frames:
        lines.append("Traceback (your code, most recent call last):")
        lines.extend(frames)
    lines.append(message)
    if isinstance(error, ModuleNotFoundError):
        lines.append(missing_module_hint())
    return {"type": name, "line": first_line, "text": "\n".join(lines), "hidden": hidden}


def available_packages():
    """The distributions this interpreter can import besides the standard library."""
    import importlib.metadata

    names = {dist.metadata["Name"] for dist in importlib.metadata.distributions()}
    return sorted((name for name in names if name), key=str.lower)


def missing_module_hint():
    """What to say under a ``ModuleNotFoundError``: which packages the sandbox has."""
    names = ", ".join(
        f"{name} (with its workers and js modules)" if name == "dosim" else name
        for name in available_packages()
    )
    return (
        f"The sandbox has Python's standard library and these packages only: {names}. "
        "Nothing else can be installed here; to use other packages, run the block on your "
        "computer (save it as x.py, then: dosim run x.py)."
    )


def _split(code, filename):
    """Compile ``code`` as statements plus, when it ends in a bare expression, that expression.

    Returns ``(statements, expression)``; ``expression`` is ``None`` when the last
    top-level statement is not an expression. Both keep ``filename`` and the source's line
    numbers, so tracebacks point at the editor's lines.
    """
    tree = compile(code, filename, "exec", flags=_FLAGS | ast.PyCF_ONLY_AST, dont_inherit=True)
    if not tree.body or not isinstance(tree.body[-1], ast.Expr):
        return compile(tree, filename, "exec", flags=_FLAGS, dont_inherit=True), None
    last = tree.body.pop()
    statements = compile(tree, filename, "exec", flags=_FLAGS, dont_inherit=True)
    expression = compile(
        ast.Expression(last.value), filename, "eval", flags=_FLAGS, dont_inherit=True
    )
    return statements, expression


async def _evaluate(compiled, scope):
    """Run ``compiled`` in ``scope``; await it when it uses top-level ``await``.

    The code flag, not the result, decides: ``stub.get()`` without ``await`` evaluates to
    a coroutine the reader should see as such, not one the sandbox quietly awaits.
    """
    result = eval(compiled, scope)  # noqa: S307 - running the reader's code is the point
    if compiled.co_flags & inspect.CO_COROUTINE:
        result = await result
    return result


async def run(code, key, fresh, block):
    """Run one block in the namespace ``key``; return a JSON report.

    The report is ``{"ok": true}``, plus ``"value"`` (see :func:`describe_value`) when the
    block ends in an expression whose value is not ``None``; or ``{"ok": false, "error"}``
    / ``{"ok": false, "stopped": true}``.
    """
    scope = namespace(key, fresh)
    filename = f"<block {block}>"
    try:
        # The whole block first, so a syntax error carries its source line and column.
        compile(code, filename, "exec", flags=_FLAGS, dont_inherit=True)
        statements, expression = _split(code, filename)
    except SyntaxError as error:
        return json.dumps({"ok": False, "error": _error_report(error, block)})
    # Line-numbered source for the traceback module (linecache) to show the reader's lines.
    import linecache

    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    value = None
    try:
        await _evaluate(statements, scope)
        if expression is not None:
            value = await _evaluate(expression, scope)
    except KeyboardInterrupt:
        return json.dumps({"ok": False, "stopped": True})
    except BaseException as error:  # noqa: BLE001 - reported to the reader
        return json.dumps({"ok": False, "error": _error_report(error, block)})
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    report = {"ok": True}
    described = await describe_value(value)
    if described is not None:
        report["value"] = described
    return json.dumps(report)


def _response_class():
    try:
        from dosim.workers.response import FetchResponse
    except ImportError:  # the helper without dosim (never in the sandbox)
        return None
    return FetchResponse


def _repr_report(value):
    try:
        text = repr(value)
    except Exception as error:  # noqa: BLE001 - a broken __repr__ must not fail the run
        text = f"<{type(value).__name__} object; repr() failed: {error!r}>"
    truncated = len(text) > _REPR_LIMIT
    return {"kind": "repr", "text": text[:_REPR_LIMIT], "truncated": truncated}


async def describe_value(value):
    """Describe a block's value for the output pane.

    Args:
        value: What the block's last expression evaluated to.

    Returns:
        ``None`` for ``None``. For a dosim ``Response`` (what ``App.fetch`` and
        ``stub.fetch`` return): ``{"kind": "response", "status", "statusText", "url",
        "headers": [[name, value], ...], "body", "bodyKind", "bodyBytes", "truncated"}``
        where ``bodyKind`` is ``"json"`` (pretty-printed, indent 2), ``"text"``,
        ``"binary"`` (``body`` is empty; ``bodyBytes`` says how long), ``"empty"``,
        ``"used"`` (the reader's code already read it) or ``"websocket"``. The body is read
        from a ``clone()``, so the response's own body stays unread. For anything else:
        ``{"kind": "repr", "text", "truncated"}``.
    """
    if value is None:
        return None
    response_class = _response_class()
    if response_class is None or not isinstance(value, response_class):
        return _repr_report(value)
    try:
        return await _response_report(value)
    except Exception:  # noqa: BLE001 - fall back to the plain repr rather than fail the run
        return _repr_report(value)


async def _response_report(response):
    headers = [[name, str(text)] for name, text in response.headers.items()]
    content_type = (response.headers.get("content-type") or "").lower()
    report = {
        "kind": "response",
        "status": response.status,
        "statusText": response.status_text,
        "url": response.url,
        "headers": headers,
        "body": "",
        "bodyKind": "empty",
        "bodyBytes": 0,
        "truncated": False,
    }
    if response.web_socket is not None:
        report["bodyKind"] = "websocket"
        return report
    if response.body_used:
        report["bodyKind"] = "used"
        return report
    data = await response.clone().bytes()
    report["bodyBytes"] = len(data)
    if not data:
        return report
    kind, text = body_text(data, content_type)
    report["bodyKind"] = kind
    if text is not None:
        report["truncated"] = len(text) > _BODY_LIMIT
        report["body"] = text[:_BODY_LIMIT]
    return report


_BINARY_TYPES = ("image/", "audio/", "video/", "font/", "application/octet-stream")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def body_text(data, content_type):
    """``(kind, text)`` for a non-empty body: JSON pretty-printed, text, or binary.

    Args:
        data: The body's bytes.
        content_type: The response's ``Content-Type``, lowercased.

    Returns:
        ``("json", pretty text)``, ``("text", text)`` or ``("binary", None)``.
    """
    if content_type.startswith(_BINARY_TYPES) or "application/zip" in content_type:
        return "binary", None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "binary", None
    if "json" in content_type:
        try:
            parsed = json.loads(text)
        except ValueError:
            pass  # declared JSON but is not: show what was sent, as text
        else:
            return "json", json.dumps(parsed, indent=2, ensure_ascii=False)
    if _CONTROL.search(text):
        return "binary", None
    return "text", text


def _apps(scope):
    import dosim

    seen = {}
    for name, value in list(scope.items()):
        if isinstance(value, dosim.App) and id(value) not in seen and not name.startswith("_"):
            seen[id(value)] = (name, value)
    return list(seen.values())


def _object(view):
    facts = {
        "id": view.hex_id,
        "name": view.name,
        "class": view.class_name,
        "live": view.live,
        "alarm": view.alarm,
        "sockets": view.sockets,
        "kv": [],
        "kv_total": 0,
        "tables": [],
    }
    try:
        page = view.kv(0, _KV_LIMIT)
        facts["kv_total"] = page["total"]
        facts["kv"] = [{"key": e["key"], "value": e["value"]} for e in page["entries"]]
        facts["tables"] = view.tables()
    except Exception as error:  # noqa: BLE001 - a panel must not break a run
        facts["error"] = str(error)
    return facts


def _binding(view):
    facts = {"binding": view.binding, "type": view.type, "key": view.key, "tables": []}
    try:
        for table in view.tables():
            page = view.table(table["name"], 0, _KV_LIMIT) or {"columns": [], "rows": []}
            facts["tables"].append(
                {
                    "name": table["name"],
                    "total": table["rows"],
                    "columns": page["columns"],
                    "rows": page["rows"],
                }
            )
    except Exception as error:  # noqa: BLE001 - a panel must not break a run
        facts["error"] = str(error)
    return facts


def describe_app(name, app):
    """The Objects panel's description of ``app``, shown under the name ``name``."""
    namespaces = [
        {
            "binding": namespace.binding,
            "class": namespace.class_name,
            "objects": [_object(view) for view in app.objects(namespace.binding)],
        }
        for namespace in app.namespace_views()
    ]
    events = json.loads(app.trace.to_json())
    return {
        "var": name,
        "now": app.clock.now_ms(),
        "namespaces": namespaces,
        "bindings": [_binding(view) for view in app.binding_views()],
        "trace_total": len(events),
        "trace": events[-_TRACE_LIMIT:],
    }


def snapshot(key):
    """JSON: every ``dosim.App`` among the globals of ``key``, described."""
    scope = _namespaces.get(key)
    if not scope or "dosim" not in sys.modules:
        return json.dumps({"apps": []})
    try:
        return json.dumps({"apps": [describe_app(n, a) for n, a in _apps(scope)]}, default=repr)
    except Exception as error:  # noqa: BLE001
        return json.dumps({"apps": [], "error": repr(error)})


async def advance(key, var, seconds, block):
    """``await <var>.advance(seconds)`` in namespace ``key``; JSON report."""
    scope = _namespaces.get(key) or {}
    app = scope.get(var)
    if app is None:
        return json.dumps(
            {"ok": False, "error": {"type": "LookupError", "text": f"no app {var!r}"}}
        )
    try:
        await app.advance(seconds)
    except KeyboardInterrupt:
        return json.dumps({"ok": False, "stopped": True})
    except BaseException as error:  # noqa: BLE001
        return json.dumps({"ok": False, "error": _error_report(error, block)})
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return json.dumps({"ok": True})
