"""What waiting on the network costs the client's CPU: `python -m bench.floor`.

Sends the same N small GETs (a project's permission scheme) to the benchmark's sandbox, served in its own
process with 50 ms of latency, three ways, three rounds each, and prints the CPU of each:
  - `threads`: SiteClient.map over urllib3, one thread per request in flight, as the client sends lists'
    pages and writes;
  - `get_each`: SiteClient.get_each, the client's event loop (site/aio.py), as it sends per-object reads;
  - `floor`: one asyncio loop over P keep-alive connections, answers read with asyncio streams and decoded
    with json, and nothing else: no retries, no limit, no error handling.
threads / get_each is what the event loop saves per request; get_each / floor is what the client's own
care costs on top of the bare loop.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import time
from urllib.parse import urlsplit

from bench.run import client, served_site
from bench.site import ENTERPRISE
from reconciler.sandbox.common import SANDBOX_API_TOKEN, SANDBOX_EMAIL
from reconciler.site.api import Api

LATENCY_S = 0.05
ROUNDS = 3


async def _ask_in_turn(host: str, port: int, path: str, count: int) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    secret = base64.b64encode(f"{SANDBOX_EMAIL}:{SANDBOX_API_TOKEN}".encode()).decode()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Basic {secret}\r\n"
        "Accept: application/json\r\n\r\n"
    ).encode()
    for _ in range(count):
        writer.write(request)
        status = await reader.readline()
        if not status.startswith(b"HTTP/1.1 200 "):
            raise RuntimeError(f"the sandbox answered {status!r}: the measurement would be of errors")
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        json.loads(await reader.readexactly(length))
    writer.close()
    await writer.wait_closed()


async def _event_loop_round(host: str, port: int, path: str, requests: int, parallelism: int) -> None:
    shares = [requests // parallelism + (i < requests % parallelism) for i in range(parallelism)]
    await asyncio.gather(*(_ask_in_turn(host, port, path, share) for share in shares))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=725)  # a scale-1 plan's requests
    parser.add_argument("--parallelism", type=int, default=10)
    options = parser.parse_args()
    requests, parallelism = options.requests, options.parallelism
    with served_site(ENTERPRISE, LATENCY_S, subprocess_server=True) as url, client(url, parallelism) as site:
        key = site.get(Api.JIRA, "/project/search", {"maxResults": 1})["values"][0]["key"]
        path = f"/project/{key}/permissionscheme"
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        for _ in range(ROUNDS):
            cpu = time.process_time()
            site.map(lambda _: site.get(Api.JIRA, path), range(requests))
            threads = time.process_time() - cpu
            cpu = time.process_time()
            list(site.get_each(Api.JIRA, [path] * requests))
            each = time.process_time() - cpu
            cpu = time.process_time()
            asyncio.run(_event_loop_round(host, port, f"/rest/api/3{path}", requests, parallelism))
            floor = time.process_time() - cpu
            print(
                f"floor: requests={requests} parallelism={parallelism} threads_cpu_s={threads:.3f} "
                f"get_each_cpu_s={each:.3f} floor_cpu_s={floor:.3f} "
                f"threads/get_each={threads / each:.1f} get_each/floor={each / floor:.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
