"""Absolute-URL parsing for ``Request`` and ``Response.redirect``, after the WHATWG URL standard.

On Cloudflare, ``new Request(url)`` parses its URL with the WHATWG parser (compat flag
``fetch_standard_url``, default since 2024-06-03) and stores the serialized form: the
scheme and host are lower-cased, a default port is dropped, an empty path becomes ``/``,
dot segments are resolved and unsafe characters are percent-encoded, so
``Request("https://Example.COM:443").url == "https://example.com/"``. There is no base
URL, so a relative URL fails.

dosim implements the parts of the standard that change common URLs. Not implemented:
IPv4 number normalisation (``http://0x7f.1/``), percent-encoding of user info, and
opaque-path encoding for non-special schemes, which are returned as given apart from the
scheme's case.
"""

from __future__ import annotations

import re

__all__ = ["parse_url"]

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
# Special schemes and their default ports (``file`` has no host requirement).
_SPECIAL = {"http": "80", "https": "443", "ws": "80", "wss": "443", "ftp": "21", "file": ""}
_FORBIDDEN_HOST = set("\x00\t\n\r #/:<>?@[\\]^|%\x7f") | {chr(code) for code in range(0x20)}
# Extra characters each component percent-encodes beyond C0 controls, space and non-ASCII.
_PATH_SET = '"#<>?`{}'
_QUERY_SET = "\"#<>'"
_FRAGMENT_SET = '"<>`'
_SINGLE_DOT = {".", "%2e"}
_DOUBLE_DOT = {"..", ".%2e", "%2e.", "%2e%2e"}


def parse_url(raw: str) -> str | None:
    """Parse an absolute URL and return its WHATWG serialization.

    Args:
        raw: The URL text as app code passed it.

    Returns:
        The normalised URL, or ``None`` when the text is not a valid absolute URL (the
        caller raises the platform's error for its context).
    """
    text = raw.strip("".join(chr(code) for code in range(0x21)))
    text = text.replace("\t", "").replace("\n", "").replace("\r", "")
    match = _SCHEME.match(text)
    if match is None:
        return None
    scheme = match.group()[:-1].lower()
    rest = text[match.end() :]
    if scheme not in _SPECIAL:
        return f"{scheme}:{rest}"
    rest = rest.replace("\\", "/")
    # Special schemes skip any run of slashes before the host; file URLs keep an empty host.
    if scheme == "file":
        rest = rest[2:] if rest.startswith("//") else "/" + rest.lstrip("/")
    else:
        rest = rest.lstrip("/")
    end = min((rest.find(c) for c in "/?#" if c in rest), default=len(rest))
    authority = _parse_authority(scheme, rest[:end])
    if authority is None:
        return None
    return f"{scheme}://{authority}{_parse_tail(rest[end:])}"


def _parse_authority(scheme: str, authority: str) -> str | None:
    userinfo, at, hostport = authority.rpartition("@")
    host, port = hostport, ""
    colon = hostport.rfind(":")
    if colon > hostport.rfind("]"):
        host, port = hostport[:colon], hostport[colon + 1 :]
    host = _parse_host(host)
    if host is None or (host == "" and scheme != "file"):
        return None
    if port:
        if not port.isdigit() or not port.isascii() or int(port) > 65535:
            return None
        port = "" if str(int(port)) == _SPECIAL[scheme] else f":{int(port)}"
    return f"{userinfo}{at}{host}{port}"


def _parse_host(host: str) -> str | None:
    if host.startswith("["):
        return host.lower() if host.endswith("]") else None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    host = host.lower()
    if any(char in _FORBIDDEN_HOST for char in host):
        return None
    return host


def _parse_tail(tail: str) -> str:
    path, fragment = tail, ""
    if "#" in tail:
        path, fragment = tail.split("#", 1)
        fragment = "#" + _encode(fragment, _FRAGMENT_SET)
    query = ""
    if "?" in path:
        path, query = path.split("?", 1)
        query = "?" + _encode(query, _QUERY_SET)
    return _normalise_path(path) + query + fragment


def _normalise_path(path: str) -> str:
    segments = path[1:].split("/") if path else [""]
    kept: list[str] = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        lowered = segment.lower()
        if lowered in _DOUBLE_DOT:
            if kept:
                kept.pop()
            if last:
                kept.append("")
        elif lowered in _SINGLE_DOT:
            if last:
                kept.append("")
        else:
            kept.append(_encode(segment, _PATH_SET))
    return "/" + "/".join(kept)


def _encode(text: str, extra: str) -> str:
    out = []
    for char in text:
        if ord(char) <= 0x20 or ord(char) > 0x7E or char in extra:
            out.append("".join(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass")))
        else:
            out.append(char)
    return "".join(out)
