from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

import pytest

from pirsch_middleware.records import (
    Event,
    Hit,
    Session,
    batch_json,
    check_meta,
    check_tags,
)


def test_meta_values_become_strings() -> None:
    assert check_meta({"n": 3, "ok": True, "no": False, "f": 1.5, "s": "x"}) == {
        "n": "3",
        "ok": "true",
        "no": "false",
        "f": "1.5",
        "s": "x",
    }


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ({f"k{i}": "v" for i in range(21)}, "at most 20 pairs, got 21"),
        ({"k" * 101: "v"}, "keys are 1 to 100 characters"),
        ({"": "v"}, "keys are 1 to 100 characters"),
        ({"k": "v" * 2001}, "values are at most 2000 characters, got 2001 for 'k'"),
        ({"k": ["a"]}, "values are strings, numbers or booleans"),
        ({"k": None}, "values are strings, numbers or booleans"),
    ],
)
def test_meta_limits(meta: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=r"^meta: ") as info:
        check_meta(meta)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ({f"k{i}": "v" for i in range(21)}, "at most 20 tags, got 21"),
        ({"k" * 51: "v"}, "keys are 1 to 50 characters"),
        ({"k": "v" * 51}, "values are at most 50 characters, got 51 for 'k'"),
    ],
)
def test_tag_limits(tags: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=r"^tags: ") as info:
        check_tags(tags)
    assert message in str(info.value)


def test_limits_are_inclusive() -> None:
    assert len(check_tags({f"k{i:02d}": "v" * 50 for i in range(20)})) == 20
    assert len(check_meta({"k" * 100: "v" * 2000})) == 1


def _hit(**changes: object) -> Hit:
    values: dict[str, Any] = {
        "ip": "203.0.113.7",
        "user_agent": "Mozilla/5.0",
        "time": 1_700_000_000.25,
        "url": "https://example.com/",
    }
    values.update(changes)
    return Hit(**values)


def test_batch_json_writes_what_payload_says() -> None:
    records: list[Hit | Session] = [
        _hit(title="Ünïcode ✓", tags={"a": "b"}, screen_width=1920),
        Event(
            ip="1.2.3.4",
            user_agent="UA",
            time=0.0,
            url="https://example.com/x",
            event_name="Signup",
            event_duration=3,
            event_meta={"plan": "pro"},
            non_interactive=True,
        ),
        Session(ip="1.2.3.4", user_agent="UA", time=0.0, sec_ch_ua_mobile="?0"),
    ]
    assert json.loads(batch_json(records)) == [record.payload() for record in records]


@pytest.mark.parametrize("cls", [Session, Hit, Event])
def test_payload_holds_every_field_set_and_leaves_out_only_none_and_false(
    cls: type[Hit | Session],
) -> None:
    names = [field.name for field in dataclasses.fields(cls)]
    full: dict[str, Any] = {name: f"value of {name}" for name in names} | {"time": 0.5}
    assert cls(**full).payload() == full | {"time": "1970-01-01T00:00:00.500Z"}
    required: dict[str, Any] = {
        "ip": "1.2.3.4",
        "user_agent": "UA",
        "time": 0.0,
        "url": "u",
        "event_name": "e",
    }
    required = {name: value for name, value in required.items() if name in names}
    blank: dict[str, Any] = {name: None for name in names if name not in required}
    blank |= {"disable_bot_filter": False} | ({"non_interactive": False} if cls is Event else {})
    written = {**required, "time": "1970-01-01T00:00:00.000Z"}
    assert cls(**required, **blank).payload() == written
    falsy_values: dict[str, Any] = {"sec_ch_ua": "", "disable_bot_filter": 0}
    assert cls(**required, **falsy_values).payload() == written | falsy_values


def test_batch_json_replaces_text_that_is_not_unicode() -> None:
    body = batch_json([_hit(title="bad \udcff surrogate")])
    assert json.loads(body)[0]["title"] == "bad ? surrogate"


def test_batch_json_sees_changes_to_visitor_fields() -> None:
    first = _hit(accept_language="de")
    second = _hit(accept_language="de")
    second.user_agent = "Changed/1.0"
    written = json.loads(batch_json([first, second]))
    assert [w["user_agent"] for w in written] == ["Mozilla/5.0", "Changed/1.0"]


def test_batch_json_takes_subclasses() -> None:
    @dataclass(slots=True, kw_only=True)
    class Marked(Hit):
        mark: str = "x"

    assert json.loads(batch_json([Marked(ip="1.2.3.4", user_agent="UA", time=0.0, url="u")])) == [
        {"ip": "1.2.3.4", "user_agent": "UA", "time": "1970-01-01T00:00:00.000Z", "url": "u"}
    ]


def test_batch_json_replaces_bad_text_and_keeps_the_other_records() -> None:
    records = [_hit(title="fine ✓"), _hit(user_agent="bad \udcff", title="also \ud800 bad")]
    written = json.loads(batch_json(records))
    assert written[0] == records[0].payload()
    assert (written[1]["user_agent"], written[1]["title"]) == ("bad ?", "also ? bad")
    assert written[1]["url"] == records[1].url


def test_batch_json_raises_for_values_json_cannot_hold() -> None:
    # As json.dumps does: a before_send hook's mistake is an ordinary TypeError.
    with pytest.raises(TypeError):
        batch_json([_hit(tags={"when": object()})])


def test_errors_name_what_was_given_and_where() -> None:
    # Found by mutation testing: the messages' details were not checked.
    with pytest.raises(ValueError, match=r"^tags: expected a mapping of strings, got \['a'\]$"):
        check_tags(["a"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"got \['x'\] for 'k'$"):
        check_meta({"k": ["x"]})
