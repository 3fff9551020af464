from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pirsch_middleware.title import TITLE_WINDOW, charset_of, find_title


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<html><head><title>Home</title></head>", "Home"),
        (b"<TITLE>Shouting</TITLE>", "Shouting"),
        (b"<title lang='en'>With attributes</title >", "With attributes"),
        (b"<title>\n  Many\t\n spaces  </title>", "Many spaces"),
        (b"<title>Fish &amp; Chips &#8211; &eacute;</title>", "Fish & Chips \u2013 \u00e9"),
        ("<title>Grüße</title>".encode(), "Grüße"),
        (b"<title></title>", None),
        (b"<title>   </title>", None),
        (b"<title>never closed", None),
        (b"<titles>not a title</titles>", None),
        (b"<p>no title at all</p>", None),
        (b"", None),
        (b"<title>\xff\xfe broken utf-8</title>", "\ufffd\ufffd broken utf-8"),
        (b"<title>first</title><title>second</title>", "first"),
        (b"<TITLE>first</TITLE><title>second</title>", "first"),  # the first in any case
        (b"<title\n>split</TiTlE>", "split"),
    ],
)
def test_find_title_reads_the_first_title(body: bytes, expected: str | None) -> None:
    assert find_title(body) == expected


def test_title_after_the_window_is_not_read() -> None:
    body = b"<!-- " + b"x" * TITLE_WINDOW + b" --><title>late</title>"
    assert find_title(body) is None
    assert find_title(b"<title>early</title>" + b"x" * TITLE_WINDOW) == "early"


def test_charset_of_the_content_type_decodes_the_title() -> None:
    body = "<title>Grüße</title>".encode("latin-1")
    assert find_title(body, charset_of("text/html; charset=ISO-8859-1")) == "Grüße"
    assert find_title(body, "no-such-charset") == "Gr\ufffd\ufffde"


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        (None, "utf-8"),
        ("text/html", "utf-8"),
        ("text/html; charset=iso-8859-1", "iso-8859-1"),
        ('text/html; Charset="windows-1252"', "windows-1252"),
        ("text/html; charset=", "utf-8"),
    ],
)
def test_charset_of(content_type: str | None, expected: str) -> None:
    assert charset_of(content_type) == expected


@given(st.binary(max_size=400), st.sampled_from(["utf-8", "latin-1", "bogus"]))
def test_find_title_never_raises(body: bytes, charset: str) -> None:
    title = find_title(b"<title>" + body + b"</title>", charset)
    assert title is None or (title == " ".join(title.split()) and title)


@pytest.mark.parametrize(
    "body",
    [b"<title\tlang=en>Hi</title>", b"<title\nlang=en>Hi</title>", b"<title\r\n>Hi</title>"],
)
def test_title_tag_with_any_blank_before_its_attributes(body: bytes) -> None:
    # Found by mutation testing: only a space before attributes was tried.
    assert find_title(body) == "Hi"
    assert find_title(body.replace(b"title", b"TITLE")) == "Hi"
