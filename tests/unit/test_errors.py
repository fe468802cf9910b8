"""mockserver.core.errors.classify: every exception connexion (or a handler) raises becomes one
MockError with the status, kind, fields and verdict each API renders in its own format."""

from __future__ import annotations

import pytest
from connexion.exceptions import (
    BadRequestProblem,
    ExtraParameterProblem,
    Forbidden,
    InternalServerError,
    NonConformingResponseBody,
    OAuthProblem,
    OAuthResponseProblem,
    OAuthScopeProblem,
    ProblemException,
    ServerError,
    Unauthorized,
    UnsupportedMediaTypeProblem,
)
from starlette.exceptions import HTTPException

from mockserver.core.errors import FieldError, FieldErrors, MockError, classify, value_text


def fields(err: MockError) -> list[tuple[str, str, str]]:
    return [(f.key, f.rule, f.location) for f in err.fields]


def test_a_mock_error_is_kept_as_raised():
    err = MockError(410, "SESSION_ENDED", "ended", headers={"X": "1"})
    assert classify(err) is err


def test_field_errors_keep_every_failing_field():
    raised = FieldErrors(
        [FieldError("a", "required", "required"), FieldError("b.c", "type", "not a string", "1")]
    )
    err = classify(raised)
    assert (err.status, err.kind, err.violation) == (400, "validation", True)
    assert err.fields == raised.fields
    assert err.message == "a: required; b.c: not a string"


def test_an_unknown_query_parameter_names_each_parameter():
    err = classify(ExtraParameterProblem(param_type="query", extra_params=["x", "y"]))
    assert (err.status, err.kind, err.violation) == (400, "validation", True)
    assert fields(err) == [("x", "unknown", "query"), ("y", "unknown", "query")]
    assert err.message == "Extra query parameter(s) x,y not in spec"


def test_an_unknown_form_field_is_named_in_the_body():
    err = classify(ExtraParameterProblem(param_type="formData", extra_params=["z"]))
    assert (err.status, err.kind, err.violation) == (400, "validation", True)
    assert fields(err) == [("z", "unknown", "body")]


def test_an_unsupported_media_type_is_415_on_the_content_type_header():
    err = classify(UnsupportedMediaTypeProblem(detail="Invalid Content-type (text/plain)"))
    assert (err.status, err.kind, err.violation) == (415, "unsupported_media_type", True)
    assert fields(err) == [("Content-Type", "media_type", "header")]
    assert err.fields[0].message == "Invalid Content-type (text/plain)"


@pytest.mark.parametrize(
    ("detail", "expected"),
    [
        ("Missing query parameter 'since'", [("since", "required", "query")]),
        ("Missing header parameter 'AppId'", [("AppId", "required", "header")]),
        ("RequestBody is required", [("body", "required", "body")]),
        ("'x' is not of type 'integer'", [("body", "invalid", "body")]),
        (None, [("body", "invalid", "body")]),
    ],
)
def test_a_bad_request_names_the_field_connexion_names(detail, expected):
    err = classify(BadRequestProblem(detail=detail))
    assert (err.status, err.kind, err.violation) == (400, "validation", True)
    assert fields(err) == expected
    assert err.message == (detail or "bad request")


@pytest.mark.parametrize(
    "exc",
    [
        OAuthProblem(detail="No authorization token provided"),
        OAuthResponseProblem(),
        Unauthorized(),
    ],
    ids=["OAuthProblem", "OAuthResponseProblem", "Unauthorized"],
)
def test_auth_problems_are_401_violations(exc):
    err = classify(exc)
    assert (err.status, err.kind, err.violation) == (401, "auth", True)
    assert err.message


def test_a_missing_credential_keeps_connexions_reason():
    assert classify(OAuthProblem(detail="No token")).message == "No token"


@pytest.mark.parametrize(
    "exc", [Forbidden(), OAuthScopeProblem(["a"], ["b"])], ids=["Forbidden", "OAuthScopeProblem"]
)
def test_forbidden_is_403_and_not_a_spec_violation(exc):
    err = classify(exc)
    assert (err.status, err.kind, err.violation) == (403, "forbidden", False)


def test_a_response_that_breaks_the_spec_is_a_500_that_says_so():
    err = classify(NonConformingResponseBody(detail="'success' is a required property"))
    assert (err.status, err.kind, err.violation) == (500, "internal", False)
    assert err.message == "response does not match the spec: 'success' is a required property"


@pytest.mark.parametrize(
    ("exc", "status", "kind"),
    [
        (ProblemException(status=404, title="Not Found"), 404, "not_found"),
        (HTTPException(404), 404, "not_found"),
        (HTTPException(413), 413, "payload_too_large"),
        (ProblemException(status=413), 413, "payload_too_large"),
    ],
)
def test_routing_and_size_problems_are_violations(exc, status, kind):
    err = classify(exc)
    assert (err.status, err.kind, err.violation) == (status, kind, True)


def test_method_not_allowed_keeps_the_allow_header():
    err = classify(HTTPException(405, headers={"Allow": "POST"}))
    assert (err.status, err.kind, err.violation) == (405, "method_not_allowed", True)
    assert err.headers == {"Allow": "POST"}


def test_another_http_status_keeps_its_status_detail_and_headers():
    err = classify(ProblemException(status=409, detail="busy", headers={"Retry-After": "3"}))
    assert (err.status, err.kind, err.message, err.headers) == (
        409,
        "http_error",
        "busy",
        {"Retry-After": "3"},
    )


@pytest.mark.parametrize(
    ("exc", "message"),
    [(ProblemException(status=409), "Conflict"), (ProblemException(status=499), "error")],
)
def test_another_http_status_without_detail_says_its_reason_not_none(exc, message):
    assert (classify(exc).kind, classify(exc).message) == ("http_error", message)


@pytest.mark.parametrize(
    "exc",
    [
        InternalServerError(detail="secret detail"),
        ServerError(status=501, detail="secret detail"),
        ProblemException(status=502, detail="secret detail"),
        HTTPException(500, detail="secret detail"),
    ],
    ids=["InternalServerError", "ServerError-501", "ProblemException-502", "HTTPException-500"],
)
def test_a_server_error_connexion_raises_is_the_apis_own_500(exc):
    """Not `http_error` with connexion's detail: the API's `internal` kind, which each API
    renders as its documented (or assumed) 500, and which tells the client nothing inside."""
    err = classify(exc)
    assert (err.status, err.kind, err.message) == (500, "internal", "internal server error")
    assert not err.violation


@pytest.mark.parametrize("exc", [ValueError("secret detail"), KeyError("k"), RuntimeError()])
def test_anything_else_is_a_500_that_leaks_nothing(exc):
    err = classify(exc)
    assert (err.status, err.kind, err.message) == (500, "internal", "internal server error")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        ("as is", "as is"),
        (42, "42"),
        (True, "true"),
        ({"a": [1, "é"]}, '{"a":[1,"é"]}'),
        ("x" * 300, "x" * 300),
        (["y" * 300], ('["' + "y" * 300)[:200]),
    ],
)
def test_value_text_is_what_was_received_as_short_text(value, text):
    assert value_text(value) == text
