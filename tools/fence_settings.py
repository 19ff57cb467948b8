"""The settings on the info line of a Markdown code fence (stdlib only).

A fence line such as ```` ```py group="intro" test="skip: a pytest module" ```` carries
``key="value"`` settings (single quotes work too). Three readers share this parser, so a
block means the same thing to all of them:

* ``tests/test_docs.py`` runs the blocks (``group``, ``test``) and rejects settings it
  does not know (:func:`skip_reason`);
* ``hooks/sandbox.py`` turns runnable blocks into live sandboxes (``group``, ``test``,
  ``sandbox``; :func:`is_python_fence` and :func:`in_sandbox` decide which), and
  ``tests/test_sandbox_browser.py`` finds the pages that have them the same way;
* ``hooks/fences.py`` removes ``group``, ``test`` and ``sandbox`` before a page is
  rendered.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

# A fence's opening or closing line. MULTILINE so that one pattern serves both a
# ``sub`` over a whole page and a ``match`` on a single line.
FENCE_LINE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<ticks>`{3,}|~{3,})(?P<info>[^\n`]*)$", re.MULTILINE
)
# The whitespace before a setting belongs to the match, so removing a setting leaves no gap.
SETTING = re.compile(
    r"""(?P<space>\s*)(?P<key>[A-Za-z_][\w-]*)=(?P<quote>["'])"""
    r"""(?P<value>(?:(?!(?P=quote)).)*)(?P=quote)"""
)

TEST_SETTINGS = ("test", "group")
# ``sandbox="off: <reason>"``: a block that runs in CI on CPython but cannot run in the
# browser stays plain code. ``sandbox="run"``: a sandbox on a page whose blocks are plain
# unless they opt in (the gallery pages that hooks/gallery.py generates).
SANDBOX_SETTING = "sandbox"
# What the docs tests accept on a block of docs/, tutorials/ or an example's README: the
# test settings, ``sandbox`` and the renderer's own.
KNOWN_SETTINGS = frozenset({*TEST_SETTINGS, SANDBOX_SETTING, "title", "hl_lines", "linenums"})
PYTHON_LANGUAGES = ("py", "python")


class FenceSettingError(ValueError):
    """A block's fence settings are not ones the docs tests accept."""


def parse_settings(info: str) -> dict[str, str]:
    """Read the ``key="value"`` settings of a fence's info string.

    Args:
        info: What follows the backticks, e.g. ``py group="intro"``. Words that are
            not settings (the language) are ignored.

    Returns:
        The settings by name, in the order written; a repeated name keeps its last value.
    """
    return {m.group("key"): m.group("value") for m in SETTING.finditer(info)}


def remove_settings(info: str, names: Collection[str]) -> str:
    """Return ``info`` without the settings called ``names`` (and the space before each).

    Args:
        info: A fence's info string.
        names: The settings to drop; the others stay as written.

    Returns:
        The info string that is left.
    """

    def keep_unless_named(match: re.Match[str]) -> str:
        return "" if match.group("key") in names else match.group(0)

    return SETTING.sub(keep_unless_named, info)


def is_skipped(settings: Mapping[str, str]) -> bool:
    """Whether a block says it must not run (``test="skip..."``).

    Args:
        settings: The block's settings, from :func:`parse_settings`.

    Returns:
        ``True`` for a block that is shown but never run.
    """
    return settings.get("test", "").startswith("skip")


def is_python_fence(info: str) -> bool:
    """Whether a fence's info string opens a Python block (``py`` or ``python``).

    Args:
        info: What follows the backticks, e.g. ``py group="intro"``.
    """
    words = info.strip()
    return any(words == lang or words.startswith(lang + " ") for lang in PYTHON_LANGUAGES)


def sandbox_off_reason(settings: Mapping[str, str]) -> str | None:
    """The reason of ``sandbox="off: <reason>"``, or ``None`` if the block does not say it.

    Args:
        settings: The block's settings, from :func:`parse_settings`.
    """
    value = settings.get(SANDBOX_SETTING, "")
    if value != "off" and not value.startswith("off:"):
        return None
    return value.partition(":")[2].strip()


def in_sandbox(settings: Mapping[str, str], opt_in_only: bool = False) -> bool:
    """Whether a Python block becomes a live sandbox on the site.

    Args:
        settings: The block's settings, from :func:`parse_settings`.
        opt_in_only: The page's blocks are plain unless they say ``sandbox="run"`` (the
            gallery pages); elsewhere every block is a sandbox unless it says
            ``test="skip: ..."`` or ``sandbox="off: ..."``.
    """
    if is_skipped(settings) or sandbox_off_reason(settings) is not None:
        return False
    return settings.get(SANDBOX_SETTING) == "run" if opt_in_only else True


def skip_reason(settings: Mapping[str, str]) -> str | None:
    """Check a block's settings as the docs tests do; say why it is skipped, if it is.

    Args:
        settings: The block's settings, from :func:`parse_settings`.

    Returns:
        The reason of ``test="skip: reason"``, or ``None`` for a block that runs.

    Raises:
        FenceSettingError: A setting outside :data:`KNOWN_SETTINGS` (a typo must not
            switch a check off silently), a skip without a reason, a ``test`` value
            other than ``skip: <reason>``, or a ``sandbox`` value other than ``run`` or
            ``off: <reason>``.
    """
    unknown = set(settings) - KNOWN_SETTINGS
    if unknown:
        raise FenceSettingError(f"unknown fence settings {sorted(unknown)}")
    sandbox = settings.get(SANDBOX_SETTING)
    if sandbox is not None and sandbox != "run":
        if sandbox_off_reason(settings) is None:
            raise FenceSettingError(f"unknown sandbox={sandbox!r} (only 'off: <reason>' or 'run')")
        if not sandbox_off_reason(settings):
            raise FenceSettingError('say why in the fence: sandbox="off: <reason>"')
    policy = settings.get("test", "")
    if is_skipped(settings):
        reason = policy.partition(":")[2].strip()
        if not reason:
            raise FenceSettingError('say why in the fence: test="skip: <reason>"')
        return reason
    if policy:
        raise FenceSettingError(f"unknown test={policy!r} (only 'skip: <reason>')")
    return None
