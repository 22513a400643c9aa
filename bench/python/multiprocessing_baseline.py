"""Python's multiprocessing, measured the way the ProcIsolates benchmarks measure themselves.

Prints one JSON object:
  spawn_start_ms   median time to start an empty process with the 'spawn' method and see it answer (ms)
  pipe_roundtrip_us  median round trip of a 16-byte message over multiprocessing.Pipe to a child (us)
"""
import json
import multiprocessing as mp
import statistics
import sys
import time


def answer(conn):
    conn.send_bytes(b"ready")
    conn.close()


def echo(conn):
    while True:
        data = conn.recv_bytes()
        if not data:
            break
        conn.send_bytes(data)


def spawn_start(ctx, runs):
    samples = []
    for _ in range(runs):
        parent, child = ctx.Pipe()
        start = time.perf_counter()
        process = ctx.Process(target=answer, args=(child,))
        process.start()
        parent.recv_bytes()
        samples.append((time.perf_counter() - start) * 1000)
        process.join()
    return statistics.median(samples)


def pipe_roundtrip(ctx, rounds):
    parent, child = ctx.Pipe()
    process = ctx.Process(target=echo, args=(child,))
    process.start()
    message = b"x" * 16
    for _ in range(1000):  # warm up
        parent.send_bytes(message)
        parent.recv_bytes()
    batches = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(1000):
            parent.send_bytes(message)
            parent.recv_bytes()
        batches.append((time.perf_counter() - start) * 1_000_000 / 1000)
    parent.send_bytes(b"")
    process.join()
    return statistics.median(batches)


if __name__ == "__main__":
    ctx = mp.get_context("spawn")
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    print(json.dumps({
        "python": sys.version.split()[0],
        "spawn_start_ms": round(spawn_start(ctx, runs), 2),
        "pipe_roundtrip_us": round(pipe_roundtrip(ctx, 20), 2),
    }))
