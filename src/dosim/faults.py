"""Fault injection: the failures real deployments meet, on demand and deterministically.

Reach it as ``app.faults``. Each fault names its target — a stub, an id, or a
``(binding, name)`` pair — and fires once, at a defined point, recording a ``fault`` event
in the trace:

* :meth:`Faults.fail_next_commit` — the object's next storage commit fails. Its output
  gate breaks: the held response becomes the platform's error, the object resets, and the
  writes are gone.
* :meth:`Faults.reset_on_next_call` — the object is reset while the next call to it runs
  ("Durable Object reset because its code was updated."): the call's writes are discarded
  and its caller gets the error.
* :meth:`Faults.lose_connection_on_next_call` — the next call through a stub to the
  object fails with "Network connection lost." (``retryable``), either before the object
  sees it or after it ran (so a retry runs it twice — test your idempotency).
* :meth:`Faults.reset` — reset the object right now.
* :meth:`Faults.fail_next_binding_call` — the next call to a KV namespace, D1 database, R2
  bucket or service binding fails with the error that kind of binding gives when the
  platform cannot serve a call (or the message you give).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import MSG_CODE_UPDATED, JsException, network_lost, platform_error

if TYPE_CHECKING:
    from .app import App
    from .host import ObjectHost

__all__ = ["Faults"]


class Faults:
    """Injectable failures for one app (``app.faults``)."""

    def __init__(self, app: App) -> None:
        self._app = app
        self._lose_before: dict[str, int] = {}
        self._lose_after: dict[str, int] = {}
        self._reset_on_call: dict[str, int] = {}
        self._binding_failures: list[tuple[str, str | None, str | None]] = []

    def _host(self, target: Any) -> ObjectHost:
        return self._app.host_of(target)

    def fail_next_commit(self, target: Any) -> None:
        """Make the next commit of ``target``'s storage fail (then the object resets).

        Args:
            target: A stub, an id, or ``(binding, name)``.
        """
        host = self._host(target)
        host.database.fail_next_commit = True
        host.record("fault", fault="fail_next_commit")

    def reset_on_next_call(self, target: Any) -> None:
        """Reset ``target`` while its next call runs, as a code update would.

        The call's handler runs; before its result leaves, the object resets: its writes
        are discarded and the caller gets ``Durable Object reset because its code was
        updated.`` with ``durableObjectReset``.

        Args:
            target: A stub, an id, or ``(binding, name)``.
        """
        key = self._host(target).hex_id
        self._reset_on_call[key] = self._reset_on_call.get(key, 0) + 1

    def lose_connection_on_next_call(self, target: Any, *, after_delivery: bool = True) -> None:
        """Drop the connection on the next stub call to ``target``.

        Args:
            target: A stub, an id, or ``(binding, name)``.
            after_delivery: True: the object runs the call, then the caller gets the
                error. False: the caller gets the error and the object never sees it.
        """
        key = self._host(target).hex_id
        table = self._lose_after if after_delivery else self._lose_before
        table[key] = table.get(key, 0) + 1

    def reset(self, target: Any, message: str = MSG_CODE_UPDATED) -> bool:
        """Reset ``target`` now; its in-flight events fail.

        Args:
            target: A stub, an id, or ``(binding, name)``.
            message: What callers of the reset instance see.

        Returns:
            Whether an instance was in memory.
        """
        host = self._host(target)
        host.record("fault", fault="reset")
        error = platform_error("Error", message, durable_object_reset=True, remote=True)
        return host.reset(error, reason="fault: reset")

    # -- hooks called by stubs ----------------------------------------------------------
    def before_call(self, stub: Any, label: str) -> None:
        """Fire faults due before a call leaves the caller (called by stubs).

        Args:
            stub: The stub making the call.
            label: The method name (``"fetch"`` for stub fetches).

        Raises:
            JsException: ``Network connection lost.`` when such a fault is armed.
        """
        key = stub.id.toString()
        if self._take(self._lose_before, key):
            host = self._app.host_of(stub)
            host.record("fault", fault="lose_connection", method=label, delivered=False)
            raise network_lost()
        if self._take(self._reset_on_call, key):
            self._arm_reset(self._app.host_of(stub), label)

    def after_call(self, stub: Any, label: str, host: ObjectHost) -> None:
        """Fire faults due after the object answered (called by stubs).

        Args:
            stub: The stub that made the call.
            label: The method name.
            host: The object's host.

        Raises:
            JsException: ``Network connection lost.`` when such a fault is armed.
        """
        if self._take(self._lose_after, host.hex_id):
            host.record("fault", fault="lose_connection", method=label, delivered=True)
            raise network_lost()

    def _arm_reset(self, host: ObjectHost, label: str) -> None:
        # The reset lands after the handler ran and before its result leaves: the
        # handler's writes are discarded and its caller gets the error.
        def fire() -> None:
            host.record("fault", fault="reset_on_call", method=label)
            error = platform_error(
                "Error", MSG_CODE_UPDATED, durable_object_reset=True, remote=True
            )
            host.reset(error, reason="fault: code updated")

        host.pending_fault = fire

    def fail_next_binding_call(
        self, binding: str, method: str | None = None, *, message: str | None = None
    ) -> None:
        """Make the next call to a binding fail, before it reads or writes anything.

        Args:
            binding: The binding name (``"CACHE"``).
            method: Only a call of this method (``"get"``); any method by default.
            message: The error message; by default the one the platform gives when that
                kind of binding cannot serve a call. Then the error is a
                :class:`~dosim.errors.JsException` named ``Error``.
        """
        self._binding_failures.append((binding, method, message))

    def take_binding_fault(
        self, binding: str, method: str, default_error: Any
    ) -> BaseException | None:
        """Take the failure armed for this binding call, if any (called by bindings).

        Args:
            binding: The binding name.
            method: The method being called.
            default_error: Builds the binding's own error for a failed call.

        Returns:
            The error to raise, or ``None``.
        """
        for index, (name, wanted, message) in enumerate(self._binding_failures):
            if name == binding and wanted in (None, method):
                del self._binding_failures[index]
                self._app.trace.record(
                    self._app.clock.now_ms(),
                    "fault",
                    None,
                    None,
                    None,
                    fault="binding_call",
                    binding=binding,
                    method=method,
                )
                if message is not None:
                    return JsException(message)
                return default_error()
        return None

    @staticmethod
    def _take(table: dict[str, int], key: str) -> bool:
        count = table.get(key, 0)
        if not count:
            return False
        if count == 1:
            del table[key]
        else:
            table[key] = count - 1
        return True
