"""Bot detection on a user agent seen for the first time: the pattern index against one
alternation of the same crawler-user-agents patterns, in the same run.

Run: python benchmarks/bots.py [user agents]
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable

from pirsch_middleware.bots import PatternIndex, crawler_patterns

BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)


def per_call(search: Callable[[str], object], agents: list[str]) -> float:
    start = time.perf_counter()
    for agent in agents:
        search(agent)
    return (time.perf_counter() - start) / len(agents) * 1e6


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    patterns = crawler_patterns()
    if patterns is None:
        sys.exit("needs crawler-user-agents, a dependency (pip install -e .)")
    agents = [f"{BROWSER} Build/{i}" for i in range(n)]
    start = time.perf_counter()
    index = PatternIndex(patterns)
    built = (time.perf_counter() - start) * 1e3
    alternation = re.compile("|".join(patterns))
    fast = per_call(index.search, agents)
    slow = per_call(alternation.search, agents)
    print(f"{len(patterns)} patterns, index built in {built:.1f} ms, {n} new browser user agents")
    print(f"one alternation {slow:8.1f} us/user agent")
    print(f"pattern index   {fast:8.1f} us/user agent  ({slow / fast:.0f}x faster)")


if __name__ == "__main__":
    main()
