"""Python's start-up and per-call costs, measured the way `ProcIsolates.Benchmarks startup` measures ProcIsolates.

Prints one JSON object (times in ms unless the name says us):
  spawn_start_ms        median, start a 'spawn' process and receive its first message
  spawn8_ms             median, 8 such processes started at once, until all 8 answered
  submit_us             median ProcessPoolExecutor(1).submit(f).result() of an empty function, warm
  submit_1mib_ms        median submit(f, 1 MiB bytes).result(), warm
  exec_new_ms           median exec() of a new code string in a pool process, round trip included
  idle_uss_mb / idle_pss_mb   each of 8 idle 'spawn' children (Linux smaps_rollup)
"""
import json
import multiprocessing as mp
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor

from multiprocessing_baseline import answer, spawn_start


def wait_for_stop(conn):
    conn.send_bytes(b"ready")
    conn.recv_bytes()


def nothing():
    return None


def length(data):
    return len(data)


def run_code(code):
    scope = {}
    exec(code, scope)
    return scope.get("result")


def spawn_many(ctx, count, runs):
    samples = []
    for _ in range(runs):
        pipes = [ctx.Pipe() for _ in range(count)]
        start = time.perf_counter()
        processes = [ctx.Process(target=answer, args=(child,)) for _, child in pipes]
        for process in processes:
            process.start()
        for parent, _ in pipes:
            parent.recv_bytes()
        samples.append((time.perf_counter() - start) * 1000)
        for process in processes:
            process.join()
    return statistics.median(samples)


def smaps(pid):
    values = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
                values[parts[0][:-1]] = int(parts[1])
    uss = values.get("Private_Clean", 0) + values.get("Private_Dirty", 0)
    return uss / 1024, values.get("Pss", 0) / 1024


def idle_memory(ctx, count):
    children = []
    for _ in range(count):
        parent, child = ctx.Pipe()
        process = ctx.Process(target=wait_for_stop, args=(child,))
        process.start()
        children.append((process, parent))
    for _, parent in children:
        parent.recv_bytes()
    time.sleep(1)
    figures = [smaps(process.pid) for process, _ in children]
    for process, parent in children:
        parent.send_bytes(b"stop")
        process.join()
    return statistics.median(u for u, _ in figures), statistics.median(p for _, p in figures)


def pool_figures(ctx):
    with ProcessPoolExecutor(1, mp_context=ctx) as pool:
        pool.submit(nothing).result()
        batches = []
        for _ in range(20):
            start = time.perf_counter()
            for _ in range(200):
                pool.submit(nothing).result()
            batches.append((time.perf_counter() - start) * 1_000_000 / 200)
        data = b"x" * (1 << 20)
        pool.submit(length, data).result()
        big = []
        for _ in range(30):
            start = time.perf_counter()
            pool.submit(length, data).result()
            big.append((time.perf_counter() - start) * 1000)
        new = []
        for i in range(30):
            start = time.perf_counter()
            pool.submit(run_code, f"result = {i} * 2 + len('{i}')").result()
            new.append((time.perf_counter() - start) * 1000)
        return statistics.median(batches), statistics.median(big), statistics.median(new)


if __name__ == "__main__":
    ctx = mp.get_context("spawn")
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    submit_us, submit_1mib_ms, exec_new_ms = pool_figures(ctx)
    uss, pss = idle_memory(ctx, 8) if os.path.exists("/proc/self/smaps_rollup") else (None, None)
    print(json.dumps({
        "python": sys.version.split()[0],
        "spawn_start_ms": round(spawn_start(ctx, runs), 2),
        "spawn8_ms": round(spawn_many(ctx, 8, 3), 2),
        "submit_us": round(submit_us, 2),
        "submit_1mib_ms": round(submit_1mib_ms, 3),
        "exec_new_ms": round(exec_new_ms, 3),
        "idle_uss_mb": uss and round(uss, 2),
        "idle_pss_mb": pss and round(pss, 2),
    }))
