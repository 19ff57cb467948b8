"""``workers.workflows``: the exception a Workflow step raises to stop its retries.

The Python Workers SDK (workers-runtime-sdk 1.9.5, ``workers/workflows.py``) defines
:class:`NonRetryableError` here; raised inside a step, the Workflows engine fails the
step at once instead of retrying it. dosim does not run Workflows, so nothing catches it
specially here; the class exists so that Workflow code imports unchanged.
"""

from __future__ import annotations

__all__ = ["NonRetryableError"]


class NonRetryableError(Exception):
    """Raise inside a Workflow step to fail it without further retries."""
