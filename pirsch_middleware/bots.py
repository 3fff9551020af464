"""Is a user agent a bot? The maintained crawler list when installed, else a short pattern."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

__all__ = ["bot_matcher"]

# Used without the `bots` extra: the words nearly every crawler, scraper and HTTP library names
# itself with. The Pirsch server filters bots as well; this only keeps them out of the queue.
_FALLBACK = (
    r"bot\b|bot/|crawl|spider|slurp|scraper|archiver|headless|lighthouse|pingdom|uptime|"
    r"monitor|facebookexternalhit|embedly|mediapartners|python-requests|python-httpx|"
    r"python-urllib|aiohttp|curl/|wget/|libwww|httpclient|okhttp|go-http-client|java/|"
    r"node-fetch|axios/|postman|insomnia|scrapy|phantomjs|selenium|puppeteer|playwright"
)
# Matching reads only the start of a user agent: no crawler hides its name after this.
_MAX_USER_AGENT = 512


def _pattern() -> re.Pattern[str]:
    try:
        from crawleruseragents import CRAWLER_USER_AGENTS_DATA
    except ImportError:
        return re.compile(_FALLBACK, re.IGNORECASE)
    return re.compile("|".join(item["pattern"] for item in CRAWLER_USER_AGENTS_DATA))


def bot_matcher(cache_size: int = 8192) -> Callable[[str], bool]:
    """A function telling whether a user agent is a bot, caching what repeats.

    Built once per tracker (the pattern list compiles in a few milliseconds).
    """
    search = _pattern().search

    @lru_cache(maxsize=cache_size)
    def is_bot(user_agent: str) -> bool:
        return search(user_agent) is not None

    def matcher(user_agent: str) -> bool:
        return is_bot(user_agent[:_MAX_USER_AGENT])

    return matcher
