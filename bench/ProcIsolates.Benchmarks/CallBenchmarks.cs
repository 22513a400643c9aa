using BenchmarkDotNet.Attributes;

namespace ProcIsolates.Benchmarks;

/// <summary>One empty call to another process: through ProcIsolates, and over bare StreamJsonRpc as the baseline.</summary>
public class CallBenchmarks
{
    private Interpreter interpreter = null!;
    private BareRpc bare = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        interpreter = await Interpreters.CreateAsync();
        bare = await BareRpc.StartAsync();
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await interpreter.DisposeAsync();
        await bare.DisposeAsync();
    }

    [Benchmark(Baseline = true, Description = "bare StreamJsonRpc round trip")]
    public Task<int> BareStreamJsonRpc() => bare.Proxy.PingAsync(CancellationToken.None);

    [Benchmark(Description = "empty CallAsync round trip")]
    public Task EmptyCall() => interpreter.CallAsync(() => Noop.Nothing());
}
