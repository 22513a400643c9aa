"""Python's multiprocessing.Queue moving items between two worker processes.

A producer process puts items into a multiprocessing.Queue and a consumer process takes them out; both are
started with the 'spawn' method and the main process only times. Each run uses fresh processes. Before a run
starts, the producer has put a few warm-up items and the consumer has taken them (so process start-up, the
Queue's feeder thread and the pipe are out of the measurement) and both have said they are ready. The main
process then reads the clock and sets a start Event; the producer starts putting; the consumer takes the
expected number of items and reports back on a second Queue; the main process reads the clock again when that
report arrives. Both clock readings are time.perf_counter in the main process.

  small  64-byte bytes payloads, N items (--small, default 200_000), reported as items/s
  large  1 MiB bytes payloads, M items (--large, default 1000), reported as MB/s (10^6 bytes) and MiB/s

Each measurement is repeated --runs times (default 3); the best and the median are printed. The last two lines
are machine-readable (best run):
  python-queue small items/s: <number>
  python-queue large MB/s: <number>
"""
import argparse
import multiprocessing as mp
import queue
import statistics
import sys
import time

SMALL_SIZE = 64
LARGE_SIZE = 1 << 20
WARMUP_ITEMS = 10


def producer(items, ready, start, count, size):
    payload = b"x" * size
    for _ in range(WARMUP_ITEMS):
        items.put(payload)
    ready.put("producer")
    start.wait()
    for _ in range(count):
        items.put(payload)
    items.close()
    items.join_thread()  # the feeder thread has handed every item to the pipe


def consumer(items, ready, done, count):
    for _ in range(WARMUP_ITEMS):
        items.get()
    ready.put("consumer")
    received = 0
    total = 0
    for _ in range(count):
        item = items.get()
        received += 1
        total += len(item)
    done.put((received, total))


def wait_for(q, processes, what):
    while True:
        try:
            return q.get(timeout=1.0)
        except queue.Empty:
            for process in processes:
                if process.exitcode not in (None, 0):
                    raise RuntimeError(f"{process.name} exited with {process.exitcode} while waiting for {what}")


def one_run(ctx, count, size):
    items = ctx.Queue()
    ready = ctx.Queue()
    done = ctx.Queue()
    start = ctx.Event()
    processes = [
        ctx.Process(target=producer, args=(items, ready, start, count, size), name="producer"),
        ctx.Process(target=consumer, args=(items, ready, done, count), name="consumer"),
    ]
    for process in processes:
        process.start()
    for _ in processes:
        wait_for(ready, processes, "ready")
    begin = time.perf_counter()
    start.set()
    received, total = wait_for(done, processes, "done")
    elapsed = time.perf_counter() - begin
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise RuntimeError(f"{process.name} exited with {process.exitcode}")
    if received != count or total != count * size:
        raise RuntimeError(f"consumer got {received} items / {total} bytes, expected {count} / {count * size}")
    return elapsed


def measure(ctx, count, size, runs):
    return [one_run(ctx, count, size) for _ in range(runs)]


def positive_int(text):
    value = int(text.replace("_", ""))
    if value <= 0:
        raise argparse.ArgumentTypeError("must be > 0")
    return value


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="multiprocessing.Queue throughput between two spawned processes")
    parser.add_argument("--small", type=positive_int, default=200_000, help="number of 64-byte items (default 200000)")
    parser.add_argument("--large", type=positive_int, default=1000, help="number of 1 MiB items (default 1000)")
    parser.add_argument("--runs", type=positive_int, default=3, help="repetitions of each measurement (default 3)")
    args = parser.parse_args()

    ctx = mp.get_context("spawn")
    small = measure(ctx, args.small, SMALL_SIZE, args.runs)
    large = measure(ctx, args.large, LARGE_SIZE, args.runs)

    small_rates = [args.small / s for s in small]
    large_bytes = args.large * LARGE_SIZE
    large_mb = [large_bytes / s / 1e6 for s in large]
    large_mib = [large_bytes / s / (1 << 20) for s in large]

    print(f"Python {sys.version.split()[0]}, multiprocessing.Queue, producer -> consumer, 'spawn', "
          f"best and median of {args.runs} runs")
    rows = [
        ("case", "items", "payload", "best", "median", "unit"),
        ("small", f"{args.small}", f"{SMALL_SIZE} B", f"{max(small_rates):,.0f}",
         f"{statistics.median(small_rates):,.0f}", "items/s"),
        ("large", f"{args.large}", "1 MiB", f"{max(large_mb):,.1f}", f"{statistics.median(large_mb):,.1f}", "MB/s"),
        ("large", f"{args.large}", "1 MiB", f"{max(large_mib):,.1f}", f"{statistics.median(large_mib):,.1f}", "MiB/s"),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        cells = (cell.ljust(w) if i in (0, 2, 5) else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
        print("  ".join(cells).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print("times (s): small " + ", ".join(f"{s:.3f}" for s in small) + "; large " + ", ".join(f"{s:.3f}" for s in large))
    print(f"python-queue small items/s: {max(small_rates):.0f}")
    print(f"python-queue large MB/s: {max(large_mb):.1f}")
