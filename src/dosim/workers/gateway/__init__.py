"""``workers.gateway``: what the SDK's ASGI and WSGI adapters share (their options)."""

from .options import BaseOptions, EncodeBody

__all__ = ["BaseOptions", "EncodeBody"]
