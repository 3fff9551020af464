from __future__ import annotations

import pytest

from pirsch_middleware.records import check_meta, check_tags


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
