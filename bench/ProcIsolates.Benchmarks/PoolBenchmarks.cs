using BenchmarkDotNet.Attributes;
using ProcIsolates.Comparison;

namespace ProcIsolates.Benchmarks;

/// <summary>
/// N CPU-bound jobs (N = 1 and 2, this machine's core count) through an <see cref="InterpreterPool"/> of worker processes,
/// and on threads of this process as the baseline. Speed-up = N × time(1 job) / time(N jobs).
/// </summary>
[IterationCount(10)]
[WarmupCount(2)]
public class PoolBenchmarks
{
    private const int Limit = 1_500_000;
    private InterpreterPool pool = null!;

    [Params(1, 2)]
    public int Jobs { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        pool = new InterpreterPool(new InterpreterPoolOptions { MinInterpreters = 2, MaxInterpreters = 2 });
        await pool.WarmUpAsync();
    }

    [GlobalCleanup]
    public Task CleanupAsync() => pool.CloseAsync();

    [Benchmark(Description = "jobs on threads of this process")]
    public Task<int[]> Threads() => Task.WhenAll(Enumerable.Range(0, Jobs).Select(_ => Task.Run(() => ComparisonWork.CountPrimes(Limit))));

    [Benchmark(Description = "jobs in an InterpreterPool of worker processes")]
    public Task<int[]> Pool() => Task.WhenAll(Enumerable.Range(0, Jobs).Select(_ => pool.CallAsync(() => ComparisonWork.CountPrimes(Limit))));
}
