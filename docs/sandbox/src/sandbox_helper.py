"""The Python half of the docs sandbox: runs blocks, trims tracebacks, snapshots apps.

Loaded once into the worker's interpreter as the module ``_dosim_sandbox``. The
JavaScript worker calls ``run``, ``snapshot`` and ``advance``; each returns a JSON string.

* Each block is compiled with ``ast.PyCF_ALLOW_TOP_LEVEL_AWAIT`` under the file name
  ``<block N>`` (N = the block's number on the page) and awaited, exactly as
  ``tests/test_docs.py`` runs it, in the globals of its group (or fresh ones).
* Errors are reported as the reader's own frames only, with the editor's line numbers.
* ``snapshot`` finds the ``dosim.App`` instances among a namespace's globals and
  describes their objects (KV entries, SQL tables, alarm, sockets) and their trace.
"""

import ast
import json
import re
import sys
import traceback

_namespaces = {}
_BLOCK_FILE = re.compile(r"^<block (\d+)>$")
_TRACE_LIMIT = 300
_KV_LIMIT = 50


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
                end = error.end_offset if error.end_offset and error.lineno == error.end_lineno else 0
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
    return {"type": name, "line": first_line, "text": "\n".join(lines), "hidden": hidden}


async def run(code, key, fresh, block):
    """Run one block in the namespace ``key``; return a JSON report."""
    scope = namespace(key, fresh)
    try:
        compiled = compile(
            code, f"<block {block}>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True
        )
    except SyntaxError as error:
        return json.dumps({"ok": False, "error": _error_report(error, block)})
    # Line-numbered source for the traceback module (linecache) to show the reader's lines.
    import linecache

    linecache.cache[f"<block {block}>"] = (len(code), None, code.splitlines(True), f"<block {block}>")
    try:
        result = eval(compiled, scope)  # noqa: S307 - running the reader's code is the point
        if result is not None and hasattr(result, "__await__"):
            await result
    except KeyboardInterrupt:
        return json.dumps({"ok": False, "stopped": True})
    except BaseException as error:  # noqa: BLE001 - reported to the reader
        return json.dumps({"ok": False, "error": _error_report(error, block)})
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return json.dumps({"ok": True})


def _apps(scope):
    import dosim

    seen = {}
    for name, value in list(scope.items()):
        if isinstance(value, dosim.App) and id(value) not in seen and not name.startswith("_"):
            seen[id(value)] = (name, value)
    return list(seen.values())


def _show(value):
    try:
        return json.dumps(value, ensure_ascii=False)[:300]
    except (TypeError, ValueError):
        return repr(value)[:300]


def _object(host):
    from dosim.serialization import decode_value

    facts = {
        "id": host.hex_id,
        "name": host.name,
        "class": host.namespace.cls.__name__,
        "live": host.incarnation is not None,
        "alarm": getattr(host, "_alarm_time", None),
        "sockets": len(getattr(host, "sockets", []) or []),
        "kv": [],
        "kv_total": 0,
        "tables": [],
    }
    database = getattr(host, "_database", None)
    conn = getattr(database, "conn", None)
    if conn is None:
        return facts
    try:
        exists = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='_cf_KV'"
        ).fetchone()
        if exists:
            facts["kv_total"] = conn.execute("SELECT count(*) FROM _cf_KV").fetchone()[0]
            for k, blob in conn.execute(
                "SELECT key, value FROM _cf_KV ORDER BY key LIMIT ?", (_KV_LIMIT,)
            ):
                try:
                    shown = _show(decode_value(bytes(blob)))
                except Exception as error:  # noqa: BLE001
                    shown = f"<undecodable: {error}>"
                facts["kv"].append({"key": k, "value": shown})
        names = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' "
                "AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' "
                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
            )
        ]
        for table in names:
            quoted = '"' + table.replace('"', '""') + '"'
            count = conn.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0]
            facts["tables"].append({"name": table, "rows": count})
    except Exception as error:  # noqa: BLE001 - a panel must not break a run
        facts["error"] = str(error)
    return facts


def _describe(name, app):
    namespaces = []
    for binding, runtime in app.namespaces.items():
        objects = [
            _object(host)
            for host in runtime.hosts.values()
            if host.has_stored_data() or host.incarnation is not None
        ]
        namespaces.append(
            {"binding": binding, "class": runtime.cls.__name__, "objects": objects}
        )
    events = json.loads(app.trace.to_json())
    return {
        "var": name,
        "now": app.clock.now_ms(),
        "namespaces": namespaces,
        "trace_total": len(events),
        "trace": events[-_TRACE_LIMIT:],
    }


def snapshot(key):
    """JSON: every ``dosim.App`` among the globals of ``key``, described."""
    scope = _namespaces.get(key)
    if not scope or "dosim" not in sys.modules:
        return json.dumps({"apps": []})
    try:
        return json.dumps({"apps": [_describe(n, a) for n, a in _apps(scope)]}, default=repr)
    except Exception as error:  # noqa: BLE001
        return json.dumps({"apps": [], "error": repr(error)})


async def advance(key, var, seconds, block):
    """``await <var>.advance(seconds)`` in namespace ``key``; JSON report."""
    scope = _namespaces.get(key) or {}
    app = scope.get(var)
    if app is None:
        return json.dumps({"ok": False, "error": {"type": "LookupError", "text": f"no app {var!r}"}})
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
