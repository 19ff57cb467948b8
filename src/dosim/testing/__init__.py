"""Testing helpers for Durable Objects apps (the pytest plugin lives in ``plugin``)."""
