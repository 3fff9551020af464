from __future__ import annotations

import re

import pytest

from pirsch_middleware import bots
from pirsch_middleware.bots import PatternIndex, bot_matcher, crawler_patterns, required_literal

from .conftest import CHROME

BROWSERS = [
    CHROME,
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36",
]


@pytest.mark.parametrize(
    ("pattern", "literal"),
    [
        ("Googlebot\\/", "Googlebot/"),
        ("bingbot", "bingbot"),
        ("^Mozilla\\/5\\.0 \\(compatible; Seekport", "Mozilla/5.0 (compatible; Seekport"),
        ("[wW]get", "get"),
        ("Yahoo! Slurp", "Yahoo! Slurp"),
        ("colou?r-bot", "r-bot"),
        ("ab+cdef", "cdef"),
        ("spider(man)?-crawler", "-crawler"),
        ("x{2,3}yzzy", "yzzy"),
        ("\\dbotname\\d", "botname"),
        ("Automaton|Newsify", ""),
        ("(?i)googlebot", ""),
        ("unclosed(group", ""),
        ("trailing\\", ""),
    ],
)
def test_required_literal(pattern: str, literal: str) -> None:
    assert required_literal(pattern) == literal


def test_index_agrees_with_one_alternation() -> None:
    patterns = [
        "Googlebot\\/",
        "[wW]get",
        "colou?r-bot",
        "Automaton|Newsify",
        "ab+cdef",
        "^Java\\/",
    ]
    index = PatternIndex(patterns)
    full = re.compile("|".join(patterns))
    texts = [
        *BROWSERS,
        "Googlebot/2.1",
        "Wget/1.21",
        "color-bot",
        "colour-bot",
        "abbbcdef",
        "Java/17",
        "x Java/17",
        "Newsify",
    ]
    for text in texts:
        assert index.search(text) is (full.search(text) is not None), text


def test_index_agrees_with_the_crawler_list_on_all_its_examples() -> None:
    patterns = crawler_patterns()
    assert patterns is not None, "the dev extra installs crawler-user-agents"
    from crawleruseragents import CRAWLER_USER_AGENTS_DATA

    examples = [ua for item in CRAWLER_USER_AGENTS_DATA for ua in item.get("instances", [])]
    assert len(examples) > 1000
    index = PatternIndex(patterns)
    full = re.compile("|".join(patterns))
    for text in examples + BROWSERS:
        assert index.search(text) is (full.search(text) is not None), text
    assert not any(index.search(b) for b in BROWSERS)


@pytest.mark.parametrize(
    "user_agent",
    [
        "kube-probe/1.29",
        "ELB-HealthChecker/2.0",
        "GoogleHC/1.0",
        "Consul Health Check",
        "Amazon-Route53-Health-Check-Service (ref 0e1f; report http://amzn.to/1vsZADi)",
        "Datadog/Synthetics",
        "NewRelicPinger/1.0 (1234567)",
        "Prometheus/2.53.0",
        "Java/17.0.2",
        "python-requests/2.32.3",
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    ],
)
def test_health_checks_and_monitors_the_crawler_list_misses_are_bots(user_agent: str) -> None:
    assert bot_matcher()(user_agent)


def test_monitors_are_matched_on_top_of_the_crawler_list() -> None:
    # Planted: without MONITORS these pass as visitors.
    without = bot_matcher([p for p in crawler_patterns() if p not in bots.MONITORS])
    assert not without("kube-probe/1.29")
    assert not without("ELB-HealthChecker/2.0")


def test_matcher_reads_only_the_start_of_a_huge_user_agent() -> None:
    is_bot = bot_matcher(["Googlebot"])
    assert is_bot("Googlebot " + "x" * 100_000)
    assert not is_bot("x" * 100_000 + "Googlebot")
