"""Batch encoding: records per second turned into a batch request's body, by the package's
``batch_json`` and by compiled encoders (orjson, msgspec) over the records' ``payload()``, in
one run. The records are real page views from the extractor: many hits per visitor, as in a
busy app. "payload() alone" is the share no encoder can remove: building the dictionaries.
``batch_json`` also lets other threads have the GIL every 128 records (``time.sleep(0)``, a
system call): the rows over ``payload()`` do not.

A second table starts where the sender thread starts, from the drafts the request path queued:
through a record (what a ``before_send`` hook needs: ``complete()``, ``payload()``) and straight
to the JSON body (``Extractor.body``, the sender's way without a hook), each then encoded.

Run: python benchmarks/encode.py [records] [rounds]
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))
from _support import ACCESS_KEY, BROWSER, median, table

from pirsch_middleware import RequestData, Tracker
from pirsch_middleware.extract import Draft, Extractor
from pirsch_middleware.records import Hit, Record, batch_json, dump_json


def stdlib(body: object) -> bytes:
    """What the package wrote with before orjson, for singles and as a reference."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "replace")


def drafts(count: int) -> tuple[Extractor, list[Draft]]:
    tracker = Tracker(access_key=ACCESS_KEY, base_url="http://127.0.0.1:9", environ={})
    headers = dict(BROWSER)
    out: list[Draft] = []
    extractor = tracker._extractor
    for i in range(count):
        ip = f"203.0.113.{i % 50}"  # 50 visitors
        request = RequestData("GET", "https", "example.com", f"/p/{i}", "a=1", ip, headers)
        when = 1_700_000_000 + i / 1000
        draft = extractor.draft(Hit, request, when, "Pricing & plans", None, None, None, {})
        assert not isinstance(draft, str)
        out.append(draft)
    tracker.close(0)
    return extractor, out


def records(count: int) -> list[Record]:
    extractor, queued = drafts(count)
    out: list[Record] = []
    for draft in queued:
        hit = extractor.complete(draft)
        assert not isinstance(hit, str)
        out.append(hit)
    return out


def timed(
    jobs: dict[str, Callable[[list[Any]], bytes]], batches: list[list[Any]], rounds: int
) -> dict[str, float]:
    """Median CPU seconds of each job over every batch, in alternating rounds."""
    samples: dict[str, list[float]] = {name: [] for name in jobs}
    for _ in range(rounds):
        for name, run in jobs.items():
            start = time.thread_time()
            for batch in batches:
                run(batch)
            samples[name].append(time.thread_time() - start)
    return {name: median(values) for name, values in samples.items()}


def rows(count: int, seconds: dict[str, float], base: str) -> list[list[str]]:
    return [
        [name, f"{count / s:,.0f}", f"{s / count * 1e6:.2f}", f"{seconds[base] / s:.2f}"]
        for name, s in seconds.items()
    ]


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    import msgspec
    import orjson

    batch = 500  # the default batch_size
    data = records(count)
    batches = [data[i : i + batch] for i in range(0, len(data), batch)]
    expected = json.loads(batch_json(batches[0]))
    msgspec_encode = msgspec.json.Encoder().encode
    encoders: dict[str, Callable[[list[Record]], bytes]] = {
        "batch_json (this package)": batch_json,
        "json (stdlib) over payload()": lambda rs: stdlib([r.payload() for r in rs]),
        "orjson over payload()": lambda rs: orjson.dumps([r.payload() for r in rs]),
        "msgspec over payload()": lambda rs: msgspec_encode([r.payload() for r in rs]),
        "payload() alone (no JSON)": lambda rs: bytes(len([r.payload() for r in rs])),
    }
    for name, run in encoders.items():
        if "alone" not in name:
            assert json.loads(run(batches[0])) == expected, name
    seconds = timed(encoders, batches, rounds)
    base = "batch_json (this package)"
    print(table(["encoder", "records/s", "CPU µs per record", "speed vs batch_json"],
                rows(count, seconds, base)))  # fmt: skip

    extractor, queued = drafts(count)
    draft_batches = [queued[i : i + batch] for i in range(0, len(queued), batch)]
    complete, body = extractor.complete, extractor.body
    paths: dict[str, Callable[[list[Any]], bytes]] = {
        "through a record: complete(), payload(), orjson": lambda ds: dump_json(
            [complete(d).payload() for d in ds]  # type: ignore[union-attr]
        ),
        "straight to the body: body(), orjson": lambda ds: dump_json([body(d) for d in ds]),
    }
    first = [run(draft_batches[0]) for run in paths.values()]
    assert first[0] == first[1], "the two paths wrote different bytes"
    seconds = timed(paths, draft_batches, rounds)
    base = next(iter(paths))
    print()
    print(table(["from the queued draft", "records/s", "CPU µs per record", "speed"],
                rows(count, seconds, base)))  # fmt: skip
    print(
        f"\n({count:,} page views in batches of {batch}, 50 visitors; CPU time of the encoding "
        f"thread, medians of {rounds} rounds; orjson {orjson.__version__}, msgspec "
        f"{msgspec.__version__})"
    )


if __name__ == "__main__":
    main()
