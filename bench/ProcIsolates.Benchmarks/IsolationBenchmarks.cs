using BenchmarkDotNet.Attributes;
using ProcIsolates.Comparison;

namespace ProcIsolates.Benchmarks;

/// <summary>
/// The latencies of the isolation comparison under BenchmarkDotNet, one case per level: an empty call, the same call
/// through a warm pool, and create → first call. The full comparison (throughput, speed-up, memory) is
/// <c>build.ps1 compare</c>; these cross-check its latencies with BenchmarkDotNet's statistics.
/// </summary>
public class IsolationBenchmarks
{
    private Interpreter interpreter = null!;
    private InterpreterPool pool = null!;

    [Params(Isolation.Process, Isolation.AssemblyLoadContext, Isolation.Thread)]
    public Isolation Isolation { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        interpreter = await Interpreters.CreateAsync(new InterpreterOptions { Isolation = Isolation });
        pool = new InterpreterPool(new InterpreterPoolOptions { MinInterpreters = 1, MaxInterpreters = 1, Isolation = Isolation });
        await pool.WarmUpAsync();
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await interpreter.DisposeAsync();
        await pool.DisposeAsync();
    }

    [Benchmark(Baseline = true, Description = "empty CallAsync")]
    public Task EmptyCall() => interpreter.CallAsync(() => ComparisonWork.Nothing());

    [Benchmark(Description = "empty CallAsync through a warm pool")]
    public Task PoolCall() => pool.CallAsync(() => ComparisonWork.Nothing());
}
