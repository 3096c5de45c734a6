"""Time to first page of `tryon review` over a synthetic catalogue of N pairs (default 100,000).

    python benchmarks/review.py [--pairs 100000] [--keep DIR]

Starts the real app (uvicorn, loopback) and times HTTP requests as a browser makes them: the
first page (cold: reads the pairs once), the next page, a page deep in the list, a filtered and
metric-sorted page, and one decision written. Prints numbers; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from catalogue import generate  # noqa: E402  (benchmarks/catalogue.py: the synthetic catalogue)

import tryon.catalogue as cat  # noqa: E402
from tryon.review.server import start_in_thread  # noqa: E402


def cpu_seconds() -> float:
    """CPU time of this process (the app runs in it): unlike wall time, not inflated by other load."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed_get(url: str, path: str, cookie: str) -> tuple[float, float, bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    started, cpu_started = time.perf_counter(), cpu_seconds()
    connection.request("GET", path, headers={"Cookie": cookie})
    answer = connection.getresponse()
    body = answer.read()
    elapsed, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
    if answer.status != 200:
        raise SystemExit(f"GET {path}: HTTP {answer.status}")
    return elapsed, cpu, body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="write the catalogue here and keep it")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="tryon-bench-review-"))
    started = time.perf_counter()
    generate(root, args.pairs, runs=1)
    print(f"generated {args.pairs:,} pairs at {root} in {time.perf_counter() - started:.1f}s")

    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; wall and CPU seconds per request")
    started, cpu_started = time.perf_counter(), cpu_seconds()
    server = start_in_thread(root, reviewer="bench")
    print(f"app start-up: {time.perf_counter() - started:.3f}s")
    cookie = f"tryon_review_token={server.token}"
    timed_get(server.url, "/", cookie)
    print(f"{'time to first page (start-up + first page, cold)':<58} {time.perf_counter() - started:6.3f}s wall "
          f"{cpu_seconds() - cpu_started:6.3f}s CPU")
    try:
        for label, path in [("first page again (warm), worst first", "/"),
                            ("next page", "/?page=2"),
                            ("page 1,000 (pairs 49,951-50,000)", "/?page=1000"),
                            ("filter category + metric range, sort by a metric desc",
                             "/?category=dresses&metric=preserve_ssim&min=0.7&max=0.9&sort=garment_texture_ssim&order=desc"),
                            ("needs_review + unreviewed", "/?needs_review=no&decision=unreviewed"),
                            ("compare page", "/compare"),
                            ("gate vs people page", "/gate")]:
            seconds, cpu, body = timed_get(server.url, path, cookie)
            cards = body.count(b"class='card ")
            print(f"{label:<58} {seconds:6.3f}s wall {cpu:6.3f}s CPU  ({cards} cards, {len(body) / 1024:.0f} KiB)")
        row = cat.query(root, "SELECT pair_id, run_id, output_sha256 FROM latest LIMIT 1").iloc[0]
        parts = urlsplit(server.url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        payload = json.dumps({"decision": "approved", "items": [{"pair_id": row.pair_id, "run_id": row.run_id,
                                                                "output_sha256": row.output_sha256}]})
        started = time.perf_counter()
        connection.request("POST", "/api/decisions", body=payload, headers={
            "Cookie": cookie, "Content-Type": "application/json", "X-Tryon-Review": "1"})
        answer = connection.getresponse()
        answer.read()
        print(f"{'one decision written':<58} {time.perf_counter() - started:6.3f}s  (HTTP {answer.status})")
        seconds, cpu, _ = timed_get(server.url, "/", cookie)
        print(f"{'first page after a decision':<58} {seconds:6.3f}s wall {cpu:6.3f}s CPU")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
