"""dosim: a faithful, deterministic simulator of Cloudflare Durable Objects for Python."""

__version__ = "0.1.0"
