"""A stand-in for the object host, for tests of the storage package on its own."""


class FakeHost:
    """Just enough of the object host: records storage calls; tests commit themselves."""

    def __init__(self, *, now_ms=1_000_000):
        self.ops = []
        self.pending_calls = 0
        self.now = now_ms

    def storage_op(self, op, **detail):
        self.ops.append((op, detail))

    def storage_fact(self, op, fact, value):
        self.storage_op(op, **{fact: value})

    def writes_pending(self):
        self.pending_calls += 1

    def now_ms(self):
        return self.now

    async def block_concurrency_while(self, fn):
        return await fn()
