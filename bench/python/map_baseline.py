"""ProcessPoolExecutor(2).map over tiny items, the loop MapAsync is compared with.

Usage: map_baseline.py <items> <chunksize> <rounds>. Prints one JSON object: items_per_s (the median round's)."""
import json
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor


def square(x):
    return x * x


def main():
    items, chunksize, rounds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    data = list(range(items))
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(square, data[:1000], chunksize=chunksize))  # workers started and warm
        rates = []
        for _ in range(rounds):
            start = time.perf_counter()
            results = list(pool.map(square, data, chunksize=chunksize))
            rates.append(items / (time.perf_counter() - start))
            assert results[-1] == (items - 1) ** 2
    print(json.dumps({"items_per_s": statistics.median(rates)}))


if __name__ == "__main__":
    main()
