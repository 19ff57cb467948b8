"""Which Python exception a JavaScript error thrown under the ``workers`` API becomes.

On Cloudflare the SDK's ``Request``/``Response`` constructors call the JavaScript
constructors directly, so an error the runtime throws there (an invalid URL, a status
out of range, an invalid header) reaches Python as ``pyodide.ffi.JsException`` with the
JS error's ``name`` -- not as ``TypeError`` or ``ValueError``. Only the SDK methods that
catch and convert (``Response.redirect``, ``Response.from_json``/``json``,
``form_data()``) raise ``TypeError`` for a JS ``TypeError`` and ``ValueError`` for a JS
``RangeError``. dosim reproduces both paths with :func:`js_error` and
:func:`to_python_exception`, so ``except TypeError`` behaves here as it does deployed.
"""

from __future__ import annotations

from ..errors import JsException

__all__ = ["js_error", "to_python_exception"]


def js_error(name: str, message: str) -> JsException:
    """Build the ``JsException`` Python code receives when the runtime throws.

    Args:
        name: The JavaScript error class, e.g. ``"TypeError"`` or ``"RangeError"``.
        message: The runtime's message text.

    Returns:
        A :class:`~dosim.errors.JsException` (``str()`` is ``"<name>: <message>"``).
    """
    return JsException(message, name=name)


def to_python_exception(error: JsException) -> Exception:
    """Convert a JS error as the SDK's converting methods do.

    Args:
        error: The JavaScript error.

    Returns:
        ``TypeError`` for a JS ``TypeError``, ``ValueError`` for a ``RangeError``, the
        error itself otherwise.
    """
    if error.name == "TypeError":
        return TypeError(error.message)
    if error.name == "RangeError":
        return ValueError(error.message)
    return error
