"""Per-request cost on the hot path: each framework alone, behind an empty pass-through
middleware, and behind pirsch_middleware, side by side in one run.

Run: python benchmarks/hotpath.py [requests per case] [rounds] [delivering|idle] [frameworks]
(frameworks: a comma-separated choice of starlette, flask, django-sync, django-async; all by
default).

The requests of each case are split into rounds; each round times every case once, in a new
random order, so drift on a noisy machine, and what one case leaves behind (the sender's
backlog, a garbage collection), hit all of them alike. A case's added µs is the median over
the rounds of its time minus the bare app's in the same round; a skipped request is
compared with the bare app answering the same path. The noise is measured in the run: a second,
separately built bare app is timed as a case ("bare app, again": what it adds is what two equal
apps differ by), and each row shows the spread of its per-round figures. The targets are judged
on the requesting thread's CPU time, whose noise is a fraction of wall time's on a shared
machine (wall time also holds the other threads' and processes' turns). The apps are driven
in-process (``hotpath_apps.py``: ASGI and WSGI callables, Django's handlers) in a tight loop with
a browser's headers; the tracker's sender runs against a fake Pirsch API in another process,
answering at once ("healthy") or after an hour ("stalled": the queue fills, then drops).

Same-run baselines: the least possible tracker and posthog's ``capture()`` per request (both in
``peers.py``; posthog's thread sends to a local sink process). "delivering" (the default) lets
the sender deliver while the loop runs, as in a busy app, so its share lands where it lands in
production; "idle" flushes it between rounds, so the timings hold the request path alone.
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import statistics
import sys
import time
from collections import deque
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))
from _support import ACCESS_KEY, SenderClock, analytics_sink, fake_api, median, require, table
from hotpath_apps import (
    DJANGO_EMPTY,
    DJANGO_LEAST,
    DJANGO_PIRSCH,
    DJANGO_POSTHOG,
    PATHS,
    EmptyASGI,
    EmptyWSGI,
    PostPerHitASGI,
    PostPerHitWSGI,
    Runner,
    asgi_runner,
    django_handler,
    django_runner,
    flask_app,
    setup_django,
    starlette_app,
    wsgi_runner,
)
from peers import LeastASGI, LeastWSGI, PosthogASGI, PosthogDjango, PosthogWSGI

# The run

Samples = list[tuple[float, float]]  # per round: (wall µs, CPU µs) per request
Result = dict[str, Samples]  # case -> its rounds


def measure(
    variants: dict[str, Runner], n: int, rounds: int, between: Callable[[], None]
) -> Result:
    result: Result = {name: [] for name in variants}
    names = list(variants)
    batch = max(1, n // rounds)
    order = random.Random(15)
    for _ in range(rounds):
        order.shuffle(names)
        for name in names:
            result[name].append(variants[name](batch))
            between()
    return result


BASELINE = {
    "skipped: asset path": "bare app: asset path",
    "skipped: JSON response": "bare app: JSON",
}
BASES = ("bare app", *BASELINE.values())
AGAIN = "bare app, again (noise)"
LEAST = "least possible tracker"
POSTHOG = "posthog capture() per request"
TRACKED = "tracked page view"
FRAMEWORKS = ("starlette", "flask", "django-sync", "django-async")


WALL, CPU = 0, 1  # the two figures of a round: wall µs and the requesting thread's CPU µs


def per_round(result: Result, name: str, measure: int = CPU) -> list[float]:
    """µs a case adds over the bare app answering the same path, in each round."""
    base = result[BASELINE.get(name, "bare app")]
    return [case[measure] - bare[measure] for case, bare in zip(result[name], base, strict=True)]


def added(result: Result, name: str, measure: int = CPU) -> float:
    """The median over the rounds of what a case adds."""
    return median(per_round(result, name, measure))


def spread(values: list[float]) -> float:
    """Half the interquartile range: half the rounds lie within ± this of their median."""
    if len(values) < 2:
        return 0.0
    low, _, high = statistics.quantiles(values, n=4)
    return (high - low) / 2


def noise(result: Result, measure: int = CPU) -> float:
    """What a median of this run may be off by: the larger of what the second bare app adds and
    twice the standard error of a median over these rounds, estimated from that case's spread
    (for normal noise the standard deviation is spread / 0.674, and a median's error 1.253 times
    that over √rounds)."""
    values = per_round(result, AGAIN, measure)
    error = 1.86 * spread(values) / math.sqrt(len(values))
    return max(abs(median(values)), 2 * error)


def ratio(value: float, base: float | None) -> str:
    return f"{value / base:.2f}" if base is not None and base > 0 else "n/a"


def rows(framework: str, result: Result, sender_us: float | None) -> list[list[str]]:
    floor = added(result, "empty middleware")
    least = added(result, LEAST) if LEAST in result else None
    posthog = added(result, POSTHOG) if POSTHOG in result else None
    out = []
    for name, samples in result.items():
        us, cpu = (median([sample[m] for sample in samples]) for m in (WALL, CPU))
        if name in BASES:
            out.append([framework, name, f"{us:.2f}", "", f"{cpu:.2f}", "", "", ""])
            continue
        wall, plus = added(result, name, WALL), added(result, name)
        wall_spread, cpu_spread = (spread(per_round(result, name, m)) for m in (WALL, CPU))
        out.append(
            [framework, name, f"{us:.2f}", f"{wall:+.2f} ± {wall_spread:.2f}",
             f"{plus:+.2f} ± {cpu_spread:.2f}", f"{plus - floor:+.2f}",
             ratio(plus, least), ratio(plus, posthog)]
        )  # fmt: skip
        if name == TRACKED and sender_us is not None:
            # The sender's share, paid by the app when it has no idle CPU to spare.
            total = plus + sender_us
            out.append(
                [framework, "tracked: request CPU + sender CPU per hit", "", "", f"{total:+.2f}",
                 "", ratio(total, least), ""]
            )  # fmt: skip
    return out


def verdict(
    value: float, base: float | None, limit: float, unit: str = "", floor: float = 0.0
) -> str:
    """``value`` over ``base`` (or alone, without a base) against the issue's ``limit``; a base
    no larger than the run's noise (``floor``) is marked, its ratio is not to be trusted."""
    if base is not None and base <= 0:
        return "n/a (baseline ≤ 0)"
    shown = value / base if base is not None else value
    mark = " (baseline within noise)" if base is not None and base <= floor else ""
    return f"{shown:.2f}{unit} {'✓' if shown <= limit else '✗'}{mark}"


def targets(framework: str, result: Result, sender_us: float | None) -> list[str]:
    """Issue 15's targets, all ratios of the request path's CPU µs within one run (µs only
    where the issue says µs); the sync POST's, which waits on the network, of wall µs."""
    tracked = added(result, TRACKED)
    least = added(result, LEAST)
    floor = noise(result)
    cells = [framework, verdict(tracked, least, 1.5, floor=floor)]
    cells.append(verdict(tracked, added(result, POSTHOG), 0.1) if POSTHOG in result else "")
    path_over = added(result, "skipped: asset path") - added(result, "empty middleware")
    cells.append(verdict(path_over, None, 1.0, " µs"))
    cells.append(verdict(added(result, "skipped: JSON response"), least, 1.0, floor=floor))
    if sender_us is None:
        cells += ["n/a (nothing delivered)"] * 2
    else:
        cells.append(verdict(sender_us, None, 3.0, " µs"))
        cells.append(verdict(tracked + sender_us, least, 2.0, floor=floor))
    post = "sync POST per hit (reference)"
    tracked_wall = added(result, TRACKED, WALL)
    cells.append(
        f"{added(result, post, WALL) / tracked_wall:.0f}x"
        if post in result and tracked_wall > 0
        else ""
    )
    cells.append(f"{floor:.2f} ({noise(result, WALL):.2f})")
    return cells


TARGET_HEADER = [
    "framework",
    "tracked ÷ least tracker (≤ 1.5)",
    "tracked ÷ posthog (≤ 0.1)",
    "path skip over empty mw (≤ 1 µs)",
    "response-start skip ÷ least tracker (≤ 1)",
    "sender CPU per hit (≤ 3 µs)",
    "request + sender CPU ÷ least tracker (≤ 2)",
    "sync POST per hit ÷ tracked (wall)",
    "noise µs: CPU (wall)",
]
HEADER = [
    "framework",
    "case",
    "µs/request",
    "added wall µs ± spread",
    "added CPU µs ± spread",
    "CPU over empty mw µs",
    "÷ least tracker",
    "÷ posthog",
]


def with_paths(
    variants: dict[str, Runner], bare: Any, tracked: Any, runner: Callable[[Any, str], Runner]
) -> dict[str, Runner]:
    """The page cases, plus the bare and the tracked app on the asset and JSON paths."""
    return {
        **variants,
        "bare app: asset path": runner(bare, PATHS["asset"]),
        "bare app: JSON": runner(bare, PATHS["json"]),
        "skipped: asset path": runner(tracked, PATHS["asset"]),
        "skipped: JSON response": runner(tracked, PATHS["json"]),
    }


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    delivering = (sys.argv[3] if len(sys.argv) > 3 else "delivering") == "delivering"
    chosen = sys.argv[4].split(",") if len(sys.argv) > 4 else list(FRAMEWORKS)
    require(set(chosen) <= set(FRAMEWORKS), f"frameworks: {chosen}, known: {FRAMEWORKS}")
    from posthog import Posthog
    from starlette.middleware import Middleware

    from pirsch_middleware import Tracker
    from pirsch_middleware.asgi import PirschMiddleware as ASGIPirsch
    from pirsch_middleware.django.middleware import tracker_for
    from pirsch_middleware.flask import Pirsch

    out: list[list[str]] = []
    summary: list[list[str]] = []
    seen: deque[tuple[Any, ...]] = deque(maxlen=100_000)
    queued: list[int] = [0]  # the most posthog held unsent at a round's end
    with (
        fake_api() as healthy_api,
        fake_api(delay=3600) as stalled_api,
        analytics_sink() as (sink_url, sink_received),
    ):
        healthy_url, stalled_url = healthy_api.url, stalled_api.url
        healthy = Tracker(access_key=ACCESS_KEY, base_url=healthy_url, environ={})
        stalled = Tracker(access_key=ACCESS_KEY, base_url=stalled_url, environ={})
        posthog = Posthog("phc_bench", host=sink_url, max_queue_size=1_000_000)
        PosthogDjango.client = posthog
        delivered: list[Any] = [healthy]  # the healthy trackers, whose hits must arrive

        def pause(flush: Callable[[], object]) -> Callable[[], None]:
            def between() -> None:
                queued[0] = max(queued[0], posthog.queue.qsize())
                if not delivering:
                    # Deliver the last round's records and let the sender threads go idle, so
                    # their work does not land in the next case's timing.
                    flush()
                    posthog.flush()
                    time.sleep(0.01)

            return between

        def run_framework(label: str, variants: dict[str, Runner], tracker: Any) -> None:
            between = pause(lambda: tracker.flush(60))
            for run in variants.values():  # warm caches, lazy imports, the sender thread
                run(min(max(1, n // repeats), 200))
            tracker.flush(60)
            posthog.flush()
            clock = SenderClock(tracker)
            queued = tracker.stats().queued
            result = measure(variants, n, repeats, between)
            sender_us = clock.per_hit()
            # Each page view of the tracked case really went through the middleware.
            tracked = tracker.stats().queued - queued
            require(tracked >= n // repeats * repeats, f"{label}: {tracked} page views queued")
            out.extend(rows(label, result, sender_us))
            summary.append(targets(label, result, sender_us))

        loop = asyncio.new_event_loop()
        if "starlette" in chosen:
            apps = {
                "bare app": starlette_app(),
                AGAIN: starlette_app(),
                "empty middleware": starlette_app(Middleware(EmptyASGI)),
                LEAST: starlette_app(Middleware(LeastASGI, seen=seen)),
                TRACKED: starlette_app(Middleware(ASGIPirsch, tracker=healthy)),
                "tracked, API stalled": starlette_app(Middleware(ASGIPirsch, tracker=stalled)),
                POSTHOG: starlette_app(Middleware(PosthogASGI, client=posthog)),
                "sync POST per hit (reference)": starlette_app(
                    Middleware(PostPerHitASGI, url=healthy_url)
                ),
            }

            def asgi(app: Any, path: str) -> Runner:
                return asgi_runner(app, path, loop)

            variants = {name: asgi(app, PATHS["page"]) for name, app in apps.items()}
            variants = with_paths(variants, apps["bare app"], apps[TRACKED], asgi)
            run_framework("ASGI (Starlette)", variants, healthy)

        if "flask" in chosen:
            wsgi = flask_app().wsgi_app
            # Tracked as the README installs it: the extension (its hooks included), in an app
            # of its own, so the bare app's rows pay for none of them.
            flask_healthy, flask_stalled = flask_app(), flask_app()
            Pirsch(flask_healthy, access_key=ACCESS_KEY, base_url=healthy_url, environ={})
            Pirsch(flask_stalled, access_key=ACCESS_KEY, base_url=stalled_url, environ={})
            flask_tracker = flask_healthy.extensions["pirsch"].tracker
            delivered.append(flask_tracker)
            wsgi_apps = {
                "bare app": wsgi,
                AGAIN: flask_app().wsgi_app,
                "empty middleware": EmptyWSGI(wsgi),
                LEAST: LeastWSGI(wsgi, seen),
                TRACKED: flask_healthy.wsgi_app,
                "tracked, API stalled": flask_stalled.wsgi_app,
                POSTHOG: PosthogWSGI(wsgi, posthog),
                "sync POST per hit (reference)": PostPerHitWSGI(wsgi, healthy_url),
            }
            variants = {name: wsgi_runner(app, PATHS["page"]) for name, app in wsgi_apps.items()}
            variants = with_paths(variants, wsgi, wsgi_apps[TRACKED], wsgi_runner)
            run_framework("WSGI (Flask)", variants, flask_tracker)

        good = {"access_key": ACCESS_KEY, "base_url": healthy_url, "environ": {}}
        bad = {"access_key": ACCESS_KEY, "base_url": stalled_url, "environ": {}}
        kinds = [(label, kind == "django-async") for label, kind in
                 (("Django sync", "django-sync"), ("Django async", "django-async"))
                 if kind in chosen]  # fmt: skip
        if kinds:
            setup_django(good)
            delivered.append(tracker_for(good)[0])
        for label, is_async in kinds:
            handlers = {
                "bare app": ([], good),
                AGAIN: ([], good),
                "empty middleware": ([DJANGO_EMPTY], good),
                LEAST: ([DJANGO_LEAST], good),
                TRACKED: ([DJANGO_PIRSCH], good),
                "tracked, API stalled": ([DJANGO_PIRSCH], bad),
                POSTHOG: ([DJANGO_POSTHOG], good),
            }
            built = {
                name: (django_handler(middleware, pirsch, is_async), pirsch)
                for name, (middleware, pirsch) in handlers.items()
            }

            def django(made: tuple[Any, dict[str, Any]], path: str) -> Runner:
                return django_runner(made[0], path, made[1], is_async, loop)  # noqa: B023

            variants = {name: django(made, PATHS["page"]) for name, made in built.items()}
            variants = with_paths(variants, built["bare app"], built[TRACKED], django)
            run_framework(label, variants, tracker_for(good)[0])
        loop.close()
        captured = posthog.queue.qsize()
        posthog.shutdown()
        for tracker in delivered:
            tracker.flush(60)
        # What the healthy trackers counted as sent must have reached the API (the sync POST
        # per hit reference posts there too, so it may hold more).
        sent = sum(tracker.stats().sent for tracker in delivered)
        received = healthy_api.received()
        require(sent > 0 and received >= sent, f"{sent} counted as sent, {received} received")
        for tracker in delivered:
            require(not tracker.stats().dropped, f"dropped: {tracker.stats().dropped}")
        for tracker in delivered:
            tracker.close(5)
        stalled.close(0)
        if "flask" in chosen:
            flask_stalled.extensions["pirsch"].tracker.close(0)
    print(table(HEADER, out))
    mode = "delivering during the loop" if delivering else "flushed and idle between rounds"
    print(
        f"\n({n} requests per case in {repeats} rounds; Python {sys.version.split()[0]}; the "
        f"sender {mode}). µs/request: the median of the rounds' wall time (for the bare rows, "
        "also of the requesting thread's CPU time). added wall µs and added CPU µs: what a case "
        "adds over the bare app on the same path, the median over the rounds of the difference "
        "within each round, in wall time and in the requesting thread's CPU time; ± spread: half "
        "the interquartile range of those per-round differences. "
        f'"{AGAIN}": a second bare app built alike, timed as a case: what two equal apps '
        "differ by, the run's noise. CPU over empty mw and ÷ (a multiple of what the least "
        "possible tracker and posthog's capture() add): of added CPU µs, whose noise is a "
        "fraction of wall time's on a shared machine (wall time also holds the other "
        "threads' and processes' turns). \"request CPU + sender CPU per hit\": the sender "
        "thread's CPU clock over the run, per hit delivered, added to the request path's CPU: "
        "what a page view costs an app with no idle CPU. Django async is driven through "
        "ASGIHandler's create_request, get_response_async (the async middleware chain, the "
        "views async) and send_response (hotpath_apps.py). posthog: at most "
        f"{queued[0]} events waiting in its queue at a round's end, {captured} when the loop "
        f"ended, {sink_received[0]} received by the local sink.\n"
    )
    print("### Targets of issue 15\n")
    print(table(TARGET_HEADER, summary))
    print(
        "\n(ratios of added CPU µs of the requesting thread in one run, the sync POST's of wall "
        "µs; ✓ within the issue's target, ✗ over it; noise: what a median may be off by, the "
        "larger of what the second bare app adds and twice a median's standard error estimated "
        "from its spread, in CPU µs (wall µs); a baseline within it is marked)"
    )


if __name__ == "__main__":
    main()
