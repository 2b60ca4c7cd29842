#!/usr/bin/env python3
"""A bounded soak of `deepseek serve`: mixed traffic for a while, then the books.

Usage: python3 scripts/soak.py BASE_URL SERVER_PID [--seconds 600] [--workers 6] [--seed 1]

Workers send, at random: text and chat completions, streamed and not, some streams hung up after a few
events (the server must cancel them), prompts that share a prefix (the prefix cache), malformed bodies (400),
bodies past the size limit (413), unknown paths (404) and a wrong key when the server has none set (no 401
then: accepted). The server's resident memory (VmRSS of SERVER_PID) is sampled every 10 s.

At the end it checks /metrics: no request running or waiting, no cache block held. It prints the memory
series and exits non-zero if any response had an unexpected status, the server failed, blocks were still
held, or the median resident memory of the last fifth of the run is more than 5% above that of the
fifth after the warm-up (the first fifth).
Standard library only.
"""
import argparse
import http.client
import json
import random
import re
import socket
import sys
import threading
import time
from urllib.parse import urlparse


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Soak:
    def __init__(self, url, seconds, seed):
        parsed = urlparse(url)
        self.host, self.port = parsed.hostname, parsed.port
        self.deadline = time.time() + seconds
        self.lock = threading.Lock()
        self.counts = {}
        self.failures = []
        self.seed = seed

    def count(self, kind, ok, detail=""):
        with self.lock:
            key = f"{kind}:{'ok' if ok else 'FAIL'}"
            self.counts[key] = self.counts.get(key, 0) + 1
            if not ok and len(self.failures) < 20:
                self.failures.append(f"{kind}: {detail}")

    def request(self, method, path, body=None, raw=None):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=300)
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        connection.request(method, path, body=data, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        payload = response.read()
        connection.close()
        return response.status, payload

    def hang_up(self, body, events):
        """A streamed request closed after `events` server-sent events."""
        s = socket.create_connection((self.host, self.port), timeout=300)
        data = json.dumps(body).encode()
        s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  + f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
        seen = b""
        while seen.count(b"data: ") < events:
            chunk = s.recv(4096)
            if not chunk:
                break
            seen += chunk
        s.close()
        return seen.count(b"data: ")

    def worker(self, index):
        rng = random.Random(self.seed * 1000 + index)
        shared = [rng.randrange(10, 250) for _ in range(200)]
        while time.time() < self.deadline:
            kind = rng.choice(["text", "stream", "chat", "chat-stream", "hang-up", "prefix", "malformed", "too-large", "not-found", "bad-value"])
            prompt = [rng.randrange(10, 250) for _ in range(rng.randrange(1, 200))]
            options = {"max_tokens": rng.randrange(1, 48), "temperature": rng.choice([0, 0.7, 1.2]), "seed": rng.randrange(1000), "ignore_eos": True}
            try:
                if kind in ("text", "prefix"):
                    body = dict(prompt=(shared[: rng.randrange(130, 200)] if kind == "prefix" else prompt), **options)
                    status, payload = self.request("POST", "/v1/completions", body)
                    # Prompts and limits stay within a context of 256 (the trained fixture's), so every token is made.
                    ok = status == 200 and json.loads(payload)["usage"]["completion_tokens"] == options["max_tokens"]
                    self.count(kind, ok, f"{status} {payload[:200]!r}")
                elif kind == "stream":
                    status, payload = self.request("POST", "/v1/completions", dict(prompt=prompt, stream=True, **options))
                    self.count(kind, status == 200 and payload.endswith(b"data: [DONE]\n\n"), f"{status} {payload[-200:]!r}")
                elif kind in ("chat", "chat-stream"):
                    body = dict(messages=[{"role": "user", "content": "word " * rng.randrange(1, 60)}], stream=kind == "chat-stream", **options)
                    status, payload = self.request("POST", "/v1/chat/completions", body)
                    self.count(kind, status == 200, f"{status} {payload[:200]!r}")
                elif kind == "hang-up":
                    seen = self.hang_up(dict(prompt=prompt, stream=True, max_tokens=200, ignore_eos=True), rng.randrange(1, 6))
                    self.count(kind, seen >= 1, f"saw {seen} events")
                elif kind == "malformed":
                    status, payload = self.request("POST", "/v1/completions", raw=rng.choice([b"{", b"[]", b'{"prompt": }', b"\xff\xfe", b""]))
                    self.count(kind, status == 400 and b'"error"' in payload, f"{status} {payload[:200]!r}")
                elif kind == "too-large":
                    status, payload = self.request("POST", "/v1/completions", raw=b'{"prompt": "' + b"a" * (5 << 20) + b'"}')
                    self.count(kind, status == 413, f"{status}")
                elif kind == "not-found":
                    status, payload = self.request("GET", "/v1/nowhere")
                    self.count(kind, status == 404, f"{status}")
                else:
                    status, payload = self.request("POST", "/v1/completions", dict(prompt=prompt, temperature=-1))
                    self.count(kind, status == 400, f"{status} {payload[:200]!r}")
            except (ConnectionError, socket.timeout, http.client.HTTPException) as error:
                # A 413 may close the connection before the whole body is sent.
                self.count(kind, kind == "too-large", repr(error))


def metric(text, name):
    match = re.search(rf"^{name} ([0-9.e+-]+)$", text, re.M)
    return float(match.group(1)) if match else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("pid", type=int)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--workers", type=int, default=6)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    soak = Soak(args.url, args.seconds, args.seed)
    threads = [threading.Thread(target=soak.worker, args=(i,), daemon=True) for i in range(args.workers)]
    start = time.time()
    for thread in threads:
        thread.start()
    samples = []
    while any(thread.is_alive() for thread in threads):
        samples.append((time.time() - start, rss_kib(args.pid)))
        time.sleep(2)
    for thread in threads:
        thread.join()
    samples.append((time.time() - start, rss_kib(args.pid)))
    time.sleep(1)
    _, text = soak.request("GET", "/metrics")
    text = text.decode()
    running, waiting = metric(text, "deepseek_requests_running"), metric(text, "deepseek_requests_waiting")
    used, total = metric(text, "deepseek_kv_cache_blocks_used"), metric(text, "deepseek_kv_cache_blocks_total")
    cancelled, hits = metric(text, "deepseek_requests_cancelled_total"), metric(text, "deepseek_prefix_cache_hits_total")
    print("requests:", json.dumps(dict(sorted(soak.counts.items()))))
    print("memory (s, MiB):", ", ".join(f"{t:.0f}:{kib / 1024:.1f}" for t, kib in samples[::5]))
    # Resident memory moves with the requests in flight at the moment of a sample, so flat means: the median
    # of the last fifth of the run is within 5% of the median of the fifth after the warm-up.
    def median(values):
        values = sorted(values)
        return values[len(values) // 2] if values else 0
    early = median([kib for t, kib in samples if args.seconds / 5 <= t < 2 * args.seconds / 5])
    late = median([kib for t, kib in samples if t >= 4 * args.seconds / 5])
    growth = (late - early) / early if early else 0
    print(f"median resident memory: {early / 1024:.1f} MiB after the warm-up ({args.seconds / 5:.0f}-{2 * args.seconds / 5:.0f} s), "
          f"{late / 1024:.1f} MiB in the last fifth ({growth * 100:+.1f}%); range after the warm-up "
          f"{min(k for t, k in samples if t >= args.seconds / 5) / 1024:.1f}-{max(k for t, k in samples if t >= args.seconds / 5) / 1024:.1f} MiB")
    print(f"end: running {running}, waiting {waiting}, blocks used {used} of {total}, cancelled {cancelled}, prefix-cache block hits {hits}")
    problems = list(soak.failures)
    if running != 0 or waiting != 0 or used != 0:
        problems.append("requests or cache blocks still held at the end")
    if growth > 0.05:
        problems.append(f"memory grew {growth * 100:.1f}% after the warm-up")
    for problem in problems:
        print("PROBLEM:", problem)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
