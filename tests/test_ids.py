import hashlib
import hmac

import pytest

from dosim.errors import JsException
from dosim.ids import IdFactory


def workerd_id_from_name(unique_key: str, name: str) -> str:
    """The derivation as local workerd's ActorIdFactoryImpl performs it."""
    key = hashlib.sha256(unique_key.encode()).digest()
    first = hmac.new(key, name.encode(), hashlib.sha256).digest()[:16]
    return (first + hmac.new(key, first, hashlib.sha256).digest()[:16]).hex()


def test_id_from_name_matches_workerd_derivation():
    ids = IdFactory("counter-Counter")
    assert ids.from_name("global").toString() == workerd_id_from_name("counter-Counter", "global")


def test_id_is_64_lowercase_hex():
    text = IdFactory("w-C").from_name("x").toString()
    assert len(text) == 64 and text == text.lower() and int(text, 16) >= 0


def test_same_name_same_id_different_class_different_id():
    assert IdFactory("w-A").from_name("n") == IdFactory("w-A").from_name("n")
    assert IdFactory("w-A").from_name("n") != IdFactory("w-B").from_name("n")


def test_id_keeps_name_but_from_string_drops_it():
    ids = IdFactory("w-A")
    named = ids.from_name("room")
    rebuilt = ids.from_string(named.toString())
    assert named.name == "room" and rebuilt.name is None
    assert rebuilt.equals(named)


def test_equals_ignores_names():
    ids = IdFactory("w-A")
    assert ids.from_name("a").equals(ids.from_string(ids.from_name("a").toString()))
    assert not ids.from_name("a").equals(ids.from_name("b"))


@pytest.mark.parametrize("text", ["", "abc", "g" * 64, "0" * 63])
def test_from_string_rejects_malformed_ids(text):
    with pytest.raises(TypeError, match="^Invalid Durable Object ID: must be 64 hex digits$"):
        IdFactory("w-A").from_string(text)


def test_from_string_rejects_id_of_another_namespace():
    other = IdFactory("w-B").from_name("x").toString()
    with pytest.raises(TypeError, match=r"^Durable Object ID is not valid for this namespace\.$"):
        IdFactory("w-A").from_string(other)


def test_unique_ids_are_seeded_and_valid():
    first = [IdFactory("w-A", seed=1).unique().toString() for _ in range(2)]
    assert first[0] == first[1]
    ids = IdFactory("w-A", seed=1)
    a, b = ids.unique(), ids.unique()
    assert a != b and a.name is None
    assert ids.from_string(a.toString()).equals(a)


def test_rekey_moves_a_unique_id_into_this_namespace():
    old = IdFactory("w-Old").unique()
    new = IdFactory("w-New").rekey(old.toString())
    assert new.toString()[:32] == old.toString()[:32] and new.name is None
    assert IdFactory("w-New").from_string(new.toString()).equals(new)
    assert IdFactory("w-Old").rekey(new.toString()) == old
    with pytest.raises(TypeError):
        IdFactory("w-New").from_string(old.toString())


@pytest.mark.parametrize("text", ["", "abc", "g" * 64, "0" * 63, "0" * 65])
def test_rekey_rejects_malformed_ids(text):
    with pytest.raises(TypeError, match="^Invalid Durable Object ID: must be 64 hex digits$"):
        IdFactory("w-A").rekey(text)


def test_jurisdiction_is_rejected_like_local_workerd():
    with pytest.raises(
        JsException, match="Jurisdiction restrictions are not implemented in workerd."
    ):
        IdFactory("w-A").unique("eu")


@pytest.mark.parametrize("text", ["abc", "0" * 64])
def test_id_from_string_through_the_namespace_raises_the_runtimes_js_type_error(text):
    # env.NS.idFromString is the runtime's JavaScript method (the SDK passes it through):
    # Python code receives a JsException named TypeError, not a Python TypeError.
    from dosim import App
    from workers import DurableObject

    class Thing(DurableObject):
        pass

    app = App(None, {"THINGS": Thing})
    with pytest.raises(JsException) as caught:
        app.env.THINGS.idFromString(text)
    assert caught.value.name == "TypeError"
    assert not isinstance(caught.value, TypeError)
