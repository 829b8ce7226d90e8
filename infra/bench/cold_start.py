#!/usr/bin/env python3
"""Cold start of `soraaya serve`: time from exec to the first 200 on /health.

Runs the release binary N times on fresh data directories (first start: creates
the organisation and admin, hashing a password) and N times on an existing one
(restart), then prints the size of the release auth-api binary.

    infra/bench/cold-start.sh            # builds, then runs this
    python3 infra/bench/cold_start.py 20 # N = 20
"""

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SORAAYA = os.path.join(ROOT, "target", "release", "soraaya")
AUTH_API = os.path.join(ROOT, "target", "release", "auth-api")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def time_to_health(data_dir):
    port = free_port()
    env = dict(os.environ, RUST_LOG="error", SORAAYA_ADMIN_PASSWORD="benchmark password")
    url = f"http://127.0.0.1:{port}/health"
    start = time.perf_counter()
    proc = subprocess.Popen(
        [SORAAYA, "serve", "--addr", f"127.0.0.1:{port}", "--data-dir", data_dir],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    try:
        while True:
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return (time.perf_counter() - start) * 1000
            except OSError:
                if proc.poll() is not None:
                    sys.exit(f"soraaya serve exited with {proc.returncode}")
                time.sleep(0.0005)
    finally:
        proc.kill()
        proc.wait()


def summary(name, samples):
    samples = sorted(samples)
    print(f"{name:<32} median {statistics.median(samples):7.1f} ms   "
          f"min {samples[0]:7.1f} ms   max {samples[-1]:7.1f} ms   (n={len(samples)})")


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    for binary in (SORAAYA, AUTH_API):
        if not os.path.exists(binary):
            sys.exit(f"{binary} is missing: run infra/bench/cold-start.sh")
    first, restart = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(runs):
            first.append(time_to_health(os.path.join(tmp, f"fresh-{i}")))
        kept = os.path.join(tmp, "kept")
        time_to_health(kept)
        for _ in range(runs):
            restart.append(time_to_health(kept))
    print("soraaya serve: exec -> first 200 on /health")
    summary("first start (org + admin created)", first)
    summary("restart (existing store)", restart)
    print(f"{'restart / first start':<32} {statistics.median(restart) / statistics.median(first):.2f}")
    size = os.path.getsize(AUTH_API)
    print(f"release auth-api binary          {size / 1024 / 1024:.1f} MiB ({size} bytes, host target, stripped)")


if __name__ == "__main__":
    main()
