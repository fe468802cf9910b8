"""mockserver.core.jsontext: msgspec's speed, the standard library's text and values."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from mockserver.core.jsontext import dumps, loads

STD = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

# What the mock writes for itself: JSON values with finite floats, any text, big integers.
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(VALUES)
def test_what_is_written_reads_back_as_the_standard_library_reads_its_own_text(value):
    text = dumps(value)
    assert loads(text) == json.loads(STD(value)) == json.loads(text)
    assert loads(text.encode("utf-8", "surrogatepass")) == loads(text)


@given(st.recursive(SCALARS.filter(lambda v: not isinstance(v, float)), lambda i: st.lists(i)))
def test_the_text_is_the_standard_library_s_text_but_for_how_floats_are_spelled(value):
    assert dumps(value) == STD(value)


def test_what_msgspec_will_not_take_is_written_and_read_by_the_standard_library():
    for value in [{"a": "\ud800"}, {1: "x", None: 2}]:
        assert dumps(value) == STD(value)
    assert dumps([float("nan"), float("inf")]) == "[null,null]"  # valid JSON, unlike NaN
    assert loads("[NaN]")[0] != loads("[NaN]")[0]  # nan, as json.loads reads it
    assert loads('"\ud800"') == "\ud800"
    assert loads('{"a":1,"a":2}') == {"a": 2}
