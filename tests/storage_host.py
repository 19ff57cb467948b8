"""A stand-in for the object host, for tests of the storage package on its own."""


class FakeHost:
    """Just enough of the object host: records storage calls; tests commit themselves."""

    def __init__(self, *, now_ms=1_000_000, alarm_handler=True, constructing=False):
        self.ops = []
        self.pending_calls = 0
        self.now = now_ms
        self.alarm_handler = alarm_handler
        self.constructing = constructing

    def storage_op(self, op, **detail):
        self.ops.append((op, detail))

    def writes_pending(self):
        self.pending_calls += 1

    def has_alarm_handler(self):
        return self.alarm_handler

    def in_constructor(self):
        return self.constructing

    def now_ms(self):
        return self.now

    async def block_concurrency_while(self, fn):
        return await fn()
