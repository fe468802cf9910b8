"""mockserver.http.validation: a request body is one well-formed JSON document or a clear
per-field 400 (never connexion's 500), and schema violations come back one field each, with the
rule that failed and the value received."""

from __future__ import annotations

import asyncio
import json

import pytest
from jsonschema import Draft4Validator

from mockserver.core.errors import FieldErrors
from mockserver.http.validation import (
    MAX_DEPTH,
    StructuredJSONBodyValidator,
    compiled,
    parse_json_strict,
    schema_errors,
)


def rejected(raw: bytes) -> list[tuple[str, str, str]]:
    with pytest.raises(FieldErrors) as info:
        parse_json_strict(raw)
    return [(f.key, f.rule, f.message) for f in info.value.fields]


# --- parse_json_strict ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (b'{"a": [1, 2.5, "\xc3\xa9", null, true]}', {"a": [1, 2.5, "é", None, True]}),
        (b"  42 ", 42),
        (b'"text"', "text"),
        (b'{"a": {"b": "x"}, "b": 1}', {"a": {"b": "x"}, "b": 1}),  # same key, other objects
    ],
)
def test_well_formed_json_parses_as_is(raw, value):
    assert parse_json_strict(raw) == value


@pytest.mark.parametrize("raw", [b"", b"  \n\t "])
def test_an_empty_body_is_none_for_the_required_check(raw):
    assert parse_json_strict(raw) is None


@pytest.mark.parametrize("raw", [b'{"token": "a", "token": "b"}', b'[{"k": 1, "k": 1}]'])
def test_duplicate_keys_are_rejected_by_name(raw):
    ((key, rule, message),) = rejected(raw)
    assert (key, rule) == ("body", "json") and message in (
        "duplicate key 'token'",
        "duplicate key 'k'",
    )


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(constant):
    assert rejected(b'{"tps": ' + constant.encode() + b"}") == [
        ("body", "json", f"{constant} is not valid JSON")
    ]


@pytest.mark.parametrize("raw", [b"\xff\xfe\x00", b'{"a": "\xe9"}', b'"\xed\xa0\x80"'])
def test_a_body_that_is_not_utf8_is_an_encoding_error(raw):
    assert rejected(raw) == [("body", "encoding", "body is not valid UTF-8")]


def test_nesting_deeper_than_the_limit_is_rejected_before_parsing():
    assert rejected(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1)) == [
        ("body", "json", f"JSON nested deeper than {MAX_DEPTH}")
    ]
    # far deeper than Python's recursion limit: still a 400, not a RecursionError
    assert rejected(b'{"a":' * 5000 + b"1" + b"}" * 5000)[0][1] == "json"


def test_nesting_at_the_limit_and_brackets_inside_strings_are_fine():
    at_limit = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    assert parse_json_strict(at_limit) is not None
    in_strings = b'{"s": "' + b"[{" * 200 + b'", "e": "\\"[[[["}'
    assert parse_json_strict(in_strings) == {"s": "[{" * 200, "e": '"[[[['}


@pytest.mark.parametrize("raw", [b"{", b'{"a": 1,}', b"[1 2]", b"{'a': 1}", b"0" * 10 + b"x"])
def test_malformed_json_says_so(raw):
    ((key, rule, message),) = rejected(raw)
    assert (key, rule) == ("body", "json") and message.startswith("malformed JSON: ")


# --- schema_errors -------------------------------------------------------------------------------

SCHEMA = {
    "type": "object",
    "required": ["token", "data"],
    "additionalProperties": False,
    "properties": {
        "token": {"type": "string", "pattern": "^sk_"},
        "data": {
            "type": "object",
            "required": ["status", "players"],
            "properties": {
                "status": {"enum": ["online", "offline"]},
                "players": {"type": "integer", "minimum": 0},
            },
        },
    },
}


def errors(body) -> list[dict]:
    return [f.as_dict() for f in schema_errors(compiled(SCHEMA), body)]


def test_every_missing_required_field_is_named_once():
    assert errors({}) == [
        {
            "key": "token",
            "rule": "required",
            "message": "required",
            "value": "",
            "location": "body",
        },
        {"key": "data", "rule": "required", "message": "required", "value": "", "location": "body"},
    ]


def test_nested_fields_are_named_by_their_dotted_path():
    assert [(e["key"], e["rule"]) for e in errors({"token": "sk_1", "data": {}})] == [
        ("data.status", "required"),
        ("data.players", "required"),
    ]


def test_each_failing_field_has_its_rule_message_and_received_value():
    body = {"token": 5, "data": {"status": "x", "players": -1}, "extra": [1]}
    assert errors(body) == [
        {
            "key": "extra",
            "rule": "unknown",
            "message": "unknown field",
            "value": "[1]",
            "location": "body",
        },
        {
            "key": "data.players",
            "rule": "minimum",
            "message": "-1 is less than the minimum of 0",
            "value": "-1",
            "location": "body",
        },
        {
            "key": "data.status",
            "rule": "enum",
            "message": "'x' is not one of ['online', 'offline']",
            "value": "x",
            "location": "body",
        },
        {
            "key": "token",
            "rule": "type",
            "message": "5 is not of type 'string'",
            "value": "5",
            "location": "body",
        },
    ]


def test_a_body_of_the_wrong_type_is_key_body():
    assert errors([]) == [
        {
            "key": "body",
            "rule": "type",
            "message": "[] is not of type 'object'",
            "value": "[]",
            "location": "body",
        }
    ]


def test_one_field_failing_one_rule_twice_is_listed_once():
    schema = {"properties": {"id": {"allOf": [{"pattern": "^a"}, {"pattern": "b$"}]}}}
    found = schema_errors(Draft4Validator(schema), {"id": "x"})
    assert [(f.key, f.rule, f.message) for f in found] == [
        ("id", "pattern", "'x' does not match '^a'")
    ]
    schema = {"anyOf": [{"type": "string"}, {"type": "integer"}], "not": {"type": "boolean"}}
    found = schema_errors(Draft4Validator(schema), True)
    assert [(f.key, f.rule) for f in found] == [("body", "anyOf"), ("body", "not")]


def test_a_valid_body_has_no_errors():
    assert errors({"token": "sk_1", "data": {"status": "online", "players": 3}}) == []


def test_a_schema_is_compiled_once_per_schema_object():
    assert compiled(SCHEMA) is compiled(SCHEMA)
    twin = {**SCHEMA}
    assert compiled(twin) is not compiled(SCHEMA)
    assert compiled(twin).schema is twin


# --- the body validator connexion runs -----------------------------------------------------------


def body_validator() -> StructuredJSONBodyValidator:
    return StructuredJSONBodyValidator(
        schema=SCHEMA, nullable=False, encoding="utf-8", strict_validation=False
    )


def test_the_body_validator_reports_every_field_at_once():
    with pytest.raises(FieldErrors) as info:
        body_validator()._validate({"token": 5})
    assert [(f.key, f.rule) for f in info.value.fields] == [("data", "required"), ("token", "type")]


def test_the_body_validator_requires_a_body():
    with pytest.raises(FieldErrors) as info:
        body_validator()._validate(None)
    assert [(f.key, f.rule) for f in info.value.fields] == [("body", "required")]


def test_the_body_validator_parses_strictly():
    async def stream():
        yield b'{"token": "a", '
        yield b'"token": "b"}'

    with pytest.raises(FieldErrors, match="duplicate key 'token'"):
        asyncio.run(body_validator()._parse(stream(), {}))


def test_the_compiled_validator_cache_is_bounded():
    from mockserver.http import validation

    schemas = [{"type": "object", "title": str(n)} for n in range(validation._COMPILED_MAX + 50)]
    for schema in schemas:
        validation.compiled(schema)
    assert len(validation._COMPILED) <= validation._COMPILED_MAX
    assert validation.compiled(schemas[-1]) is validation.compiled(schemas[-1])  # still cached


@pytest.mark.parametrize(
    "raw", [b"\xef\xbb\xbf{}", b'{"a":1,"a":2}', b"[1,]", b"NaN", b"1e999", b'{"a":"\\ud800"}']
)
def test_the_strict_parser_refuses_as_json_loads_with_its_hooks_would(raw):
    """parse_json_strict keeps one decoder for every body; it must say what json.loads said."""
    from mockserver.http import validation as v

    with pytest.raises(FieldErrors) as got:
        v.parse_json_strict(raw)
    try:
        json.loads(
            raw.decode(),
            parse_constant=v._no_constants,
            object_pairs_hook=v._no_duplicates,
            parse_int=v._int,
            parse_float=v._float,
        )
    except ValueError as exc:
        text = str(exc)
        assert got.value.fields[0].message in (text, f"malformed JSON: {text}")
    else:
        assert got.value.fields[0].rule == "encoding"  # a lone surrogate: checked after
