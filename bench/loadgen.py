"""A closed-loop HTTP load generator, run as its own process so it never shares a core's event loop
with the server it loads: `python -m bench.loadgen URL BODY_JSON --seconds S --concurrency C`.

With `--interval I`, each client sends one request every I seconds (the first at a random moment in
the first interval), as a page that polls would, instead of the next one as soon as an answer came;
a client never has more than one request outstanding.

Every request opens its own connection, so the workers of a multi-worker server share the load as
they would behind a load balancer. Prints one JSON object: completed requests, errors, req/s and
latency percentiles, counting only requests that finished inside the measured window (after the
warm-up).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from typing import Any

import httpx

from bench.timing import percentile


async def run(
    url: str, body: bytes, seconds: float, warmup: float, concurrency: int, interval: float = 0.0
) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    # A new connection per request: with keep-alive, the first worker to accept would keep every
    # connection for the whole run (uvicorn's workers share one listening socket), and a second
    # worker would sit idle. Connecting costs well under a millisecond here.
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=0)
    headers = {"content-type": "application/json"}
    async with httpx.AsyncClient(limits=limits, timeout=60) as http:
        begin = time.perf_counter() + warmup
        end = begin + seconds

        async def worker(rng: random.Random) -> None:
            nonlocal errors
            due = time.perf_counter() + rng.random() * interval
            while True:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                if (started := time.perf_counter()) >= end:
                    break
                due = started + interval
                response = await http.post(url, content=body, headers=headers)
                finished = time.perf_counter()
                ok = response.status_code == 200 and b'"errors"' not in response.content
                if begin <= started and finished <= end:
                    if ok:
                        latencies.append(finished - started)
                    else:
                        errors += 1

        await asyncio.gather(*(worker(random.Random(n)) for n in range(concurrency)))
    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": seconds,
        "concurrency": concurrency,
        "interval": interval,
        "requests_per_second": len(latencies) / seconds,
        "p50_ms": percentile(latencies, 0.5) * 1000 if latencies else None,
        "p95_ms": percentile(latencies, 0.95) * 1000 if latencies else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen")
    parser.add_argument("url")
    parser.add_argument("body", help="the request body (JSON)")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--interval", type=float, default=0.0, help="seconds between a client's requests")
    args = parser.parse_args()
    result = asyncio.run(run(args.url, args.body.encode(), args.seconds, args.warmup, args.concurrency, args.interval))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
