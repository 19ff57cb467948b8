"""Stand-ins for the bindings dosim does not simulate.

Queues, Workflows, Workers AI, Vectorize, Hyperdrive and the other bindings of
:data:`dosim.bindingconfig.NOT_SIMULATED` need Cloudflare's services. A config that
declares one still loads (a real project's config must work unchanged), with a warning,
and ``env.<NAME>`` holds a :class:`NotSimulated` stand-in: any use of it raises
:class:`BindingNotSimulated`, whose message names the binding, where it is declared and
how to replace it in tests. It is never a silent ``None``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BindingNotSimulated", "NotSimulated", "not_simulated_message"]


class BindingNotSimulated(NotImplementedError):
    """Raised on any use of a binding dosim does not simulate."""


def not_simulated_message(name: str, config_key: str, description: str) -> str:
    """Say which binding is not simulated and how to stand it in.

    Args:
        name: The binding name.
        config_key: Where the config declares it (``"queues.producers[0]"``).
        description: What it is (``"a Queue producer"``).
    """
    return (
        f"env.{name} is {description} ({config_key} in the wrangler config), which dosim "
        "does not simulate. Stand it in with a test double: "
        f'App.from_config(..., bindings={{"{name}": double}}), or in pytest '
        f"@pytest.mark.dosim_bindings({name}=double); for HTTP services, "
        "dosim.workers.fetch.set_outbound_handler(handler) fakes the upstream."
    )


class NotSimulated:
    """The ``env`` value of a binding dosim does not simulate.

    Args:
        name: The binding name.
        config_key: Where the config declares it.
        description: What it is.
    """

    __slots__ = ("_message",)

    def __init__(self, name: str, config_key: str, description: str) -> None:
        object.__setattr__(self, "_message", not_simulated_message(name, config_key, description))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise BindingNotSimulated(self._message)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Raise :class:`BindingNotSimulated`, as any other use does."""
        raise BindingNotSimulated(self._message)

    def __bool__(self) -> bool:
        raise BindingNotSimulated(self._message)

    def __repr__(self) -> str:
        return f"<not simulated: {self._message.split(' (')[0]}>"
