"""The SDK's binding wrapper as dosim models it: conversions, and awaiting as I/O.

Sources: workers-runtime-sdk 1.9.5 ``workers/rpc.py`` (``_BindingWrapper``:
``python_to_rpc`` on arguments, ``python_from_rpc`` on results, class instances wrapped
again, nested ones left as raw proxies) and Cloudflare's description of input gates
(https://blog.cloudflare.com/durable-objects-easy-fast-correct-choose-three/: only storage
operations keep an object's input gate closed).
"""

import asyncio
import datetime as dt

import pytest

from dosim import App
from dosim.bindings import KvNamespaceBinding
from dosim.bindings.wrapper import BindingProxy, JsClassObject, RawJsObject, convert_result
from dosim.ffi import JsDate, JsObject
from dosim.serialization import JsDict, wire_date
from workers import DurableObject


class Item(JsClassObject):
    js_class_name = "Item"

    def __init__(self, name):
        self.name = name
        self.when = wire_date(86_400_000)
        self.meta = {"a": 1}

    async def size(self, *_ignored):
        return len(self.name)


class Shelf(JsClassObject):
    js_class_name = "Shelf"

    def __init__(self):
        self.calls = []

    def first(self, *args):
        self.calls.append(args)
        return Item("one")

    async def listing(self, *args):
        self.calls.append(args)
        return {"items": [Item("a"), Item("bb")], "truncated": False, "cursor": None}

    async def items(self, *_ignored):
        return [Item("x")]


async def test_arguments_convert_and_keyword_arguments_become_one_trailing_object():
    shelf = Shelf()
    proxy = BindingProxy(shelf)
    proxy.first("k", {"deep": [1, None]}, limit=3)
    assert shelf.calls == [("k", {"deep": [1, None]}, {"limit": 3})]
    with pytest.raises(TypeError, match="<class 'tuple'> cannot be sent over RPC."):
        proxy.first(("a",))


async def test_a_class_instance_result_is_wrapped_and_its_attributes_convert():
    item = BindingProxy(Shelf()).first()
    assert isinstance(item, BindingProxy)
    assert item.name == "one"
    assert item.when == dt.datetime(1970, 1, 2)  # python_from_rpc: Date -> naive datetime
    assert isinstance(item.meta, JsDict) and item.meta.a == 1
    assert await item.size() == 3


async def test_instances_in_a_top_level_list_are_wrapped_nested_ones_stay_raw():
    shelf = BindingProxy(Shelf())
    [item] = await shelf.items()
    assert isinstance(item, BindingProxy)
    listing = await shelf.listing(prefix="a")
    assert isinstance(listing, JsDict) and listing.cursor is None
    raw = listing["items"][0]
    assert isinstance(raw, RawJsObject)
    assert isinstance(raw.when, JsDate) and raw.when.getTime() == 86_400_000
    assert isinstance(raw.meta, JsObject) and raw.meta.a == 1
    assert convert_result(None) is None


class Visits(DurableObject):
    async def visit_through_kv(self):
        count = int(await self.env.KV.get("visits") or 0) + 1
        await self.env.KV.put("visits", str(count))
        return count

    async def visit_through_storage(self):
        count = (await self.ctx.storage.get("visits") or 0) + 1
        await self.ctx.storage.put("visits", count)
        return count


async def test_awaiting_a_binding_opens_the_input_gate_but_storage_does_not():
    app = App(None, {"VISITS": Visits}, bindings={"KV": KvNamespaceBinding("visits")})
    stub = app.env.VISITS.getByName("lobby")
    through_kv = await asyncio.gather(*[stub.visit_through_kv() for _ in range(5)])
    through_storage = await asyncio.gather(*[stub.visit_through_storage() for _ in range(5)])
    # KV is a subrequest: the five events interleave and each reads the old count.
    assert through_kv == [1, 1, 1, 1, 1]
    assert await app.env.KV.get("visits") == "1"
    # Storage keeps the gate closed: each event sees the previous one's write.
    assert sorted(through_storage) == [1, 2, 3, 4, 5]
