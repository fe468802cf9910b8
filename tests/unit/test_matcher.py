"""The one request matcher (mockserver.matcher) over journal entries shaped as the gate
writes them."""

from __future__ import annotations

import pytest

from mockserver.core.redaction import Redactor
from mockserver.journal import new_entry
from mockserver.matcher import MAX_PATTERN, Matcher, MatcherError
from mockserver.verification import Expectation, Tally, verdict

REDACTOR = Redactor(headers=["x-secret-key"], fields=["secret_field"])
T0 = 1_800_000_000.0
DEEP: list = [1]
for _ in range(40):
    DEEP = [DEEP]


def entry(
    n: int = 1,
    *,
    api: str = "alpha",
    operation: str | None = "alpha_beat",
    method: str = "POST",
    path: str = "/v1/beat",
    status: int = 200,
    valid: bool = True,
    body=None,
    headers: dict[str, str] | None = None,
    fault: dict | None = None,
    at: float = T0,
) -> dict:
    raw = [(k.encode(), v.encode()) for k, v in (headers or {"content-type": "x/y"}).items()]
    e = new_entry(
        api=api,
        operation=operation,
        method=method,
        path=path,
        query="",
        at=at,
        headers=raw,
        redactor=REDACTOR,
    )
    e.update(id=n, status=status, valid=valid, fault=fault)
    e["request"]["body"] = REDACTOR.body(body)
    return e


@pytest.mark.parametrize(
    ("criteria", "hit", "miss"),
    [
        ({"api": "alpha"}, {}, {"api": "beta"}),
        ({"operation": "alpha_beat"}, {}, {"operation": None}),
        ({"method": "post"}, {"method": "POST"}, {"method": "GET"}),
        ({"path": "/v1/beat"}, {}, {"path": "/v1/beat/"}),
        ({"path_pattern": r"/v1/\w+"}, {}, {"path": "/v2/beat"}),
        ({"status": 200}, {}, {"status": 201}),
        ({"status": 0}, {"status": 0}, {"status": 200}),
        ({"valid": False}, {"valid": False}, {"valid": True}),
        ({"fault": True}, {"fault": {"id": "fault-1"}}, {}),
        ({"fault": False}, {}, {"fault": {"id": "fault-1"}}),
        ({"headers": {"Content-Type": "x/y"}}, {}, {"headers": {"content-type": "x/z"}}),
        ({"since": "2027-01-15T08:00:00Z"}, {}, {"at": T0 - 1}),
        ({"until": "2027-01-15T08:00:00Z"}, {}, {"at": T0 + 1}),
    ],
)
def test_each_criterion_matches_and_misses(criteria, hit, miss):
    matcher = Matcher(criteria, REDACTOR)
    assert matcher.matches(entry(**hit))
    assert not matcher.matches(entry(**miss))
    (difference,) = matcher.differences(entry(**miss))
    assert difference.field.split(".")[0] == next(iter(criteria))


def test_an_empty_matcher_matches_everything():
    assert Matcher({}).matches(entry()) and Matcher(None).matches(entry(status=0, valid=False))


def test_path_pattern_must_match_the_whole_path():
    matcher = Matcher({"path_pattern": "/v1"})
    assert not matcher.matches(entry(path="/v1/beat"))
    assert Matcher({"path_pattern": "/v1.*"}).matches(entry(path="/v1/beat"))


def test_a_catastrophic_pattern_runs_in_linear_time():
    """`(a+)+$` against 'aaa...b' takes Python's `re` exponential time (minutes at 40 a's);
    the mock's engine answers at once however long the path."""
    matcher = Matcher({"path_pattern": "(a+)+$"})
    assert not matcher.matches(entry(path="a" * 50_000 + "b"))


@pytest.mark.parametrize(
    ("criteria", "field"),
    [
        ({"path_pattern": "x" * (MAX_PATTERN + 1)}, "path_pattern"),
        ({"path_pattern": "["}, "path_pattern"),
        ({"path_pattern": "(?=lookahead)"}, "path_pattern"),
        ({"path_pattern": r"(a)\1"}, "path_pattern"),
        ({"path_pattern": "a)|(b"}, "path_pattern"),
        ({"path_pattern": "a{1000}{1000}"}, "path_pattern"),
        ({"path_pattern": 5}, "path_pattern"),
        ({"since": "yesterday"}, "since"),
        ({"until": 12}, "until"),
        ({"since": "2027-01-02T00:00:00Z", "until": "2027-01-01T00:00:00Z"}, "until"),
        ({"status": True}, "status"),
        ({"status": 1000}, "status"),
        ({"valid": "yes"}, "valid"),
        ({"headers": {"a": 1}}, "headers.a"),
        ({"headers": ["a"]}, "headers"),
        ({"body": DEEP}, "body"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_matcher_names_its_criterion(criteria, field):
    with pytest.raises(MatcherError) as caught:
        Matcher(criteria)
    assert caught.value.field == field and caught.value.message


def test_a_pattern_of_exactly_the_limit_is_accepted():
    Matcher({"path_pattern": "x" * MAX_PATTERN})


def test_body_is_a_subset_at_any_depth():
    body = {"token": "t", "data": {"players": 3, "tags": ["a", "b"], "ok": True}, "n": 1}
    e = entry(body=body)
    assert Matcher({"body": {"data": {"players": 3}}}).matches(e)
    assert Matcher({"body": {"data": {"tags": ["a", "b"]}, "n": 1.0}}).matches(e)
    assert Matcher({"body": {}}).matches(e)
    assert not Matcher({"body": {"data": {"tags": ["a"]}}}).matches(e)  # lists: every item
    assert not Matcher({"body": {"data": {"ok": 1}}}).matches(e)  # true is not 1
    assert not Matcher({"body": {"n": True}}).matches(e)
    assert not Matcher({"body": {"data": {"players": "3"}}}).matches(e)
    assert not Matcher({"body": {"x": None}}).matches(e)  # absent is not null
    assert not Matcher({"body": {"data": 1}}).matches(entry(body="not json"))


def test_body_differences_name_each_member():
    e = entry(body={"data": {"players": 3, "tags": ["a", "b"]}})
    diffs = Matcher({"body": {"data": {"players": 4, "tags": ["a", "c"], "max": 9}}}).differences(e)
    assert [d.as_dict() for d in diffs] == [
        {"field": "body.data.players", "expected": 4, "actual": 3},
        {"field": "body.data.tags[1]", "expected": "c", "actual": "b"},
        {"field": "body.data.max", "expected": 9, "missing": True},
    ]


def test_secret_values_are_matched_redacted_and_never_shown_whole():
    secret = "s3cr3t-value-0123456789"
    e = entry(body={"secret_field": secret}, headers={"X-Secret-Key": secret})
    assert e["request"]["body"]["secret_field"] != secret  # the journal holds it masked
    matcher = Matcher(
        {"body": {"secret_field": secret}, "headers": {"x-secret-key": secret}}, REDACTOR
    )
    assert matcher.criteria["body"]["secret_field"] == e["request"]["body"]["secret_field"]
    assert matcher.matches(e)
    other = Matcher({"body": {"secret_field": "other-value-0123456789"}}, REDACTOR)
    (miss,) = Tally(other, [e]).near_misses()
    assert secret not in repr(miss) and "other-value-0123456789" not in repr(miss)


def test_near_misses_are_the_closest_three_newest_first_among_equals():
    entries = [
        entry(1, status=400),  # one difference
        entry(2, status=400, path="/v1/other"),  # two
        entry(3, api="beta", operation="beta_x", path="/b", status=500),  # four
        entry(4, status=401),  # one, newer than #1
        entry(5),  # matches: never a near miss
        entry(6, status=400, method="GET"),  # two, newer than #2
    ]
    misses = Matcher({"api": "alpha", "path": "/v1/beat", "status": 200, "method": "POST"})
    found = Tally(misses, entries).near_misses()
    assert [m["request"]["id"] for m in found] == [4, 1, 6]
    assert found[0]["differences"] == [{"field": "status", "expected": 200, "actual": 401}]
    assert set(found[0]["request"]) == {
        "id",
        "at",
        "api",
        "operation",
        "method",
        "path",
        "status",
        "valid",
    }


@pytest.mark.parametrize(
    "body", [{}, {"count": 1, "at_most": 2}, {"at_least": -1}, {"count": True}, {"at_most": 1.5}]
)
def test_an_expectation_is_exactly_one_non_negative_integer(body):
    with pytest.raises(MatcherError):
        Expectation.parse(body)


@pytest.mark.parametrize(
    ("body", "count", "holds"),
    [
        ({"count": 2}, 2, True),
        ({"count": 2}, 3, False),
        ({"at_least": 2}, 3, True),
        ({"at_least": 2}, 1, False),
        ({"at_most": 0}, 0, True),
        ({"at_most": 0}, 1, False),
    ],
)
def test_expectations(body, count, holds):
    assert Expectation.parse(body).holds(count) is holds


def test_a_passing_verdict_is_ok_and_its_count():
    e = [entry(1), entry(2, status=400)]
    assert verdict(Matcher({"status": 200}), Expectation.parse({"count": 1}), e) == {
        "ok": True,
        "count": 1,
    }


def test_a_failing_verdict_tells_what_was_expected_and_what_came_closest():
    entries = [
        entry(1, status=400, valid=False, body={"data": {"players": 2}}),
        entry(2, path="/x"),
    ]
    matcher = Matcher({"path": "/v1/beat", "status": 200, "body": {"data": {"players": 3}}})
    body = verdict(matcher, Expectation.parse({"count": 1}), entries)
    assert body["ok"] is False and body["count"] == 0 and body["expected"] == "exactly 1 request"
    assert [m["request"]["id"] for m in body["near_misses"]] == [2, 1]
    message = body["message"]
    assert message.splitlines()[0].startswith("expected exactly 1 request matching path=")
    assert "but 0 matched (2 in the journal)" in message
    assert "#1 POST /v1/beat -> 400" in message
    assert "status: expected 200, got 400" in message
    assert "body.data.players: expected 3, got 2" in message


def test_too_many_matches_list_the_matching_requests_instead():
    body = verdict(
        Matcher({"status": 200}), Expectation.parse({"at_most": 1}), [entry(1), entry(2)]
    )
    assert body["near_misses"] == [] and [r["id"] for r in body["matched"]] == [2, 1]
    assert "requests that matched (newest first):" in body["message"]
    assert body["expected"] == "at most 1 request"


def test_an_empty_journal_says_so():
    body = verdict(Matcher({"status": 200}), Expectation.parse({"at_least": 2}), [])
    assert "no request in the journal comes close" not in body["message"]
    assert body["message"].startswith("expected at least 2 requests matching status=200")
