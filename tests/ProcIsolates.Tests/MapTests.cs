namespace ProcIsolates.Tests;

/// <summary>InterpreterPool.MapAsync: ProcessPoolExecutor.map with chunks, and as_completed.</summary>
public sealed class MapTests
{
    public static int Square(int x) => x == -1 ? throw new InvalidOperationException("no square for -1") : x * x;

    /// <summary>How many items of any map run in this interpreter right now, this one included.</summary>
    public static int RunningAlongside(int x)
    {
        int now = Interlocked.Increment(ref running);
        Thread.Sleep(1);
        Interlocked.Decrement(ref running);
        return now + (x * 0);
    }

    private static int running;

    public static async IAsyncEnumerable<int> Numbers(int count)
    {
        for (int i = 0; i < count; i++)
        {
            await Task.Yield();
            yield return i;
        }
    }

    [Fact]
    public async Task Results_come_in_the_items_order_chunk_by_chunk()
    {
        await using var pool = new InterpreterPool(new InterpreterPoolOptions { MaxInterpreters = 2 });
        var results = new List<int>();
        await foreach (int result in pool.MapAsync(Enumerable.Range(0, 1000), x => Square(x), chunkSize: 16))
        {
            results.Add(result);
        }

        Assert.Equal(Enumerable.Range(0, 1000).Select(x => x * x), results);
        Assert.True(pool.Count <= 2);
    }

    [Fact]
    public async Task Unordered_results_are_all_there_and_an_async_source_works()
    {
        await using var pool = new InterpreterPool(new InterpreterPoolOptions { MaxInterpreters = 2 });
        var results = new List<int>();
        await foreach (int result in pool.MapAsync(Numbers(300), x => Square(x), chunkSize: 7, ordered: false))
        {
            results.Add(result);
        }

        Assert.Equal(Enumerable.Range(0, 300).Select(x => x * x), results.Order());
    }

    [Fact]
    public async Task A_failing_item_ends_the_enumeration_with_its_error_after_the_results_before_it()
    {
        await using var pool = new InterpreterPool(new InterpreterPoolOptions { MaxInterpreters = 2 });
        int[] items = [.. Enumerable.Range(0, 100), -1, .. Enumerable.Range(0, 100)];
        var results = new List<int>();
        ExecutionFailedException error = await Assert.ThrowsAsync<ExecutionFailedException>(async () =>
        {
            await foreach (int result in pool.MapAsync(items, x => Square(x), chunkSize: 10))
            {
                results.Add(result);
            }
        });

        Assert.Contains("no square for -1", error.Message, StringComparison.Ordinal);
        Assert.Equal(Enumerable.Range(0, 100).Select(x => x * x), results); // The chunks before the failing one.
        Assert.Equal(4, await pool.CallAsync(() => Square(2))); // The pool goes on.
    }

    [Fact]
    public async Task Cancellation_stops_the_rest()
    {
        await using var pool = new InterpreterPool(new InterpreterPoolOptions { MaxInterpreters = 2 });
        using var cancel = new CancellationTokenSource();
        int seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (int result in pool.MapAsync(Enumerable.Range(0, 100_000), x => Square(x), chunkSize: 10, cancellationToken: cancel.Token))
            {
                if (++seen == 25)
                {
                    await cancel.CancelAsync();
                }
            }
        });

        Assert.True(seen < 100_000);
    }

    [Fact]
    public async Task An_interpreter_runs_one_chunk_of_a_map_at_a_time()
    {
        await using var pool = new InterpreterPool(new InterpreterPoolOptions { MaxInterpreters = 1 });
        var seen = new List<int>();
        await foreach (int running in pool.MapAsync(Enumerable.Range(0, 200), x => RunningAlongside(x), chunkSize: 5))
        {
            seen.Add(running);
        }

        Assert.Equal(200, seen.Count);
        Assert.All(seen, running => Assert.Equal(1, running)); // Only itself: as in a ProcessPoolExecutor process.
    }

    [Fact]
    public async Task A_caller_that_uses_the_pool_inside_its_loop_is_not_blocked_by_the_map()
    {
        await using var pool = new InterpreterPool(new InterpreterPoolOptions { MaxInterpreters = 1 });
        long total = 0;
        await foreach (int square in pool.MapAsync(Enumerable.Range(0, 500), x => Square(x), chunkSize: 4).WithCancellation(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token))
        {
            total += square + await pool.CallAsync(() => Square(0)); // The map holds the only interpreter only for each chunk.
        }

        Assert.Equal(Enumerable.Range(0, 500).Sum(x => (long)x * x), total);
    }

    [Fact]
    public async Task Items_are_read_only_a_few_chunks_ahead_of_what_the_caller_took()
    {
        await using var pool = new InterpreterPool(new InterpreterPoolOptions { MaxInterpreters = 2 });
        await pool.WarmUpAsync();
        int pulled = 0;
        IEnumerable<int> Counted()
        {
            for (int i = 0; i < 100_000; i++)
            {
                Interlocked.Increment(ref pulled);
                yield return i;
            }
        }

        await using IAsyncEnumerator<int> results = pool.MapAsync(Counted(), x => Square(x), chunkSize: 10).GetAsyncEnumerator();
        Assert.True(await results.MoveNextAsync());

        // The caller holds on to its first result: two chunks per interpreter were cut, no more.
        await Task.Delay(300); // Time to read further, if it would.
        Assert.InRange(Volatile.Read(ref pulled), 10, 2 * 2 * 10);
    }

    [Fact]
    public async Task A_function_that_is_not_a_static_call_on_its_item_is_refused()
    {
        await using var pool = new InterpreterPool(new InterpreterPoolOptions { MaxInterpreters = 1 });
        Assert.Throws<ArgumentException>(() => pool.MapAsync(Enumerable.Range(0, 3), x => x + 1));
        Assert.Throws<ArgumentException>(() => pool.MapAsync(Enumerable.Range(0, 3), x => Square(3)));
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.MapAsync(Enumerable.Range(0, 3), x => Square(x), chunkSize: -1));
    }
}
