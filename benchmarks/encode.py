"""Batch encoding: records per second turned into a batch request's body, by the package's
``batch_json`` and by compiled encoders (orjson, msgspec) over the records' ``payload()``, in
one run. The records are real page views from the extractor: many hits per visitor, as in a
busy app. "payload() alone" is the share no encoder can remove: building the dictionaries.
``batch_json`` also lets other threads have the GIL every 64 records (``time.sleep(0)``, a
system call): the rows over ``payload()`` do not.

Run: python benchmarks/encode.py [records] [rounds]
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(__file__))
from _support import ACCESS_KEY, BROWSER, median, table

from pirsch_middleware import RequestData, Tracker
from pirsch_middleware.records import Record, batch_json


def stdlib(body: object) -> bytes:
    """What the package wrote with before orjson, for singles and as a reference."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "replace")


def records(count: int) -> list[Record]:
    tracker = Tracker(access_key=ACCESS_KEY, base_url="http://127.0.0.1:9", environ={})
    headers = dict(BROWSER)
    out: list[Record] = []
    for i in range(count):
        ip = f"203.0.113.{i % 50}"  # 50 visitors
        request = RequestData("GET", "https", "example.com", f"/p/{i}", "a=1", ip, headers)
        hit = tracker._extractor.hit(request, 1_700_000_000 + i / 1000, "Pricing & plans")
        assert not isinstance(hit, str)
        out.append(hit)
    tracker.close(0)
    return out


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
    samples: dict[str, list[float]] = {name: [] for name in encoders}
    for _ in range(rounds):
        for name, run in encoders.items():
            start = time.thread_time()
            for records_ in batches:
                run(records_)
            samples[name].append(time.thread_time() - start)
    rows = []
    base = median(samples["batch_json (this package)"])
    for name, values in samples.items():
        seconds = median(values)
        rows.append(
            [
                name,
                f"{count / seconds:,.0f}",
                f"{seconds / count * 1e6:.2f}",
                f"{base / seconds:.2f}",
            ]
        )
    print(table(["encoder", "records/s", "CPU µs per record", "speed vs batch_json"], rows))
    print(
        f"\n({count:,} page views in batches of {batch}, 50 visitors; CPU time of the encoding "
        f"thread, medians of {rounds} rounds; orjson {orjson.__version__}, msgspec "
        f"{msgspec.__version__})"
    )


if __name__ == "__main__":
    main()
