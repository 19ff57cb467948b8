"""Service bindings: fetch and RPC to a WorkerEntrypoint, in the same app or a linked one.

Sources: https://developers.cloudflare.com/workers/runtime-apis/bindings/service-bindings/
(fetch and RPC, named entrypoints), and workers-runtime-sdk 1.9.5 ``workers/rpc.py``
(``_FetcherWrapper``: ``fetch`` goes through ``workers.fetch`` with the binding as transport;
other attributes convert arguments and results as ``_BindingWrapper`` does).
"""

import pytest

from dosim import App
from dosim.bindings import ServiceBinding
from dosim.errors import JsException
from dosim.serialization import JsDict
from workers import Response, WorkerEntrypoint


class Auth(WorkerEntrypoint):
    async def fetch(self, request):
        return Response(f"auth saw {request.method} {request.url}")

    async def check(self, token, options):
        return {"ok": token == "good", "strict": options["strict"], "user": None}

    async def fail(self):
        raise ValueError("nope")


class Sessions(WorkerEntrypoint):
    async def count(self):
        return len(self.env.SESSIONS_SEEN)


class Front(WorkerEntrypoint):
    async def fetch(self, request):
        answer = await self.env.AUTH.check("good", {"strict": True})
        upstream = await self.env.AUTH.fetch("https://auth.internal/who", method="POST")
        return Response(f"{answer.ok} {await upstream.text()}")


def auth_app():
    return App(
        Auth,
        {},
        name="auth-worker",
        entrypoints={"Sessions": Sessions},
        vars={"SESSIONS_SEEN": [1, 2, 3]},
    )


def front_app(**binding):
    return App(Front, {}, name="front", bindings={"AUTH": ServiceBinding("auth-worker", **binding)})


async def test_fetch_and_rpc_reach_a_linked_worker_and_values_convert_as_rpc_values():
    front = front_app()
    front.link_worker(auth_app())
    response = await front.fetch("/")
    assert await response.text() == "True auth saw POST https://auth.internal/who"
    answer = await front.env.AUTH.check("bad", {"strict": False})
    # python_from_rpc: an object arrives as JsDict (attribute access), null as None.
    assert isinstance(answer, JsDict)
    assert answer == {"ok": False, "strict": False, "user": None}


async def test_a_named_entrypoint_is_reached_when_the_binding_names_it():
    front = front_app(entrypoint="Sessions")
    front.link_worker(auth_app())
    assert await front.env.AUTH.count() == 3


async def test_an_exception_in_the_target_reaches_the_caller_as_a_js_exception():
    front = front_app()
    front.link_worker(auth_app())
    with pytest.raises(JsException) as caught:
        await front.env.AUTH.fail()
    assert "ValueError: nope" in str(caught.value)
    assert caught.value.remote


async def test_a_missing_method_fails_with_the_runtime_text():
    front = front_app()
    front.link_worker(auth_app())
    with pytest.raises(JsException, match="Method missing does not exist"):
        await front.env.AUTH.missing()


async def test_tuples_cannot_be_sent_over_a_service_binding():
    front = front_app()
    front.link_worker(auth_app())
    with pytest.raises(TypeError, match="<class 'tuple'> cannot be sent over RPC."):
        await front.env.AUTH.check(("a", "b"), {})


async def test_a_binding_to_a_worker_that_is_not_loaded_says_how_to_link_it():
    front = front_app()
    with pytest.raises(LookupError, match="link it with app.link_worker"):
        await front.env.AUTH.check("good", {"strict": True})


async def test_a_worker_can_bind_itself():
    app = App(Auth, {}, name="auth-worker", bindings={"SELF": ServiceBinding("auth-worker")})
    assert (await app.env.SELF.check("good", {"strict": 1})).ok is True


async def test_each_call_is_traced_and_a_fault_can_fail_it():
    front = front_app()
    front.link_worker(auth_app())
    front.faults.fail_next_binding_call("AUTH", "check", message="upstream down")
    with pytest.raises(JsException, match="Error: upstream down"):
        await front.env.AUTH.check("good", {"strict": True})
    await front.env.AUTH.check("good", {"strict": True})
    ops = [(e.detail["binding"], e.detail["op"]) for e in front.trace.filter("binding")]
    assert ops == [("AUTH", "check")]
    assert [e.detail["fault"] for e in front.trace.filter("fault")] == ["binding_call"]
