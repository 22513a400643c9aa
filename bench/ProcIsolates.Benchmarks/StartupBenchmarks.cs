using BenchmarkDotNet.Attributes;

namespace ProcIsolates.Benchmarks;

/// <summary>From <see cref="Interpreters.CreateAsync"/> to the first call answered, with a spare worker ready and without.</summary>
[InvocationCount(1)]
[IterationCount(15)]
[WarmupCount(1)]
public class StartupBenchmarks
{
    private Interpreter? created;

    [Params(0, 1)]
    public int SpareWorkers { get; set; }

    [IterationSetup]
    public void Setup()
    {
        Interpreters.SpareWorkers = SpareWorkers;

        // Give the background spare time to start, as an app that creates interpreters now and then would.
        Thread.Sleep(SpareWorkers == 0 ? 100 : 1500);
    }

    [IterationCleanup]
    public void Cleanup() => created?.CloseAsync().GetAwaiter().GetResult();

    [Benchmark(Description = "create -> first call answered")]
    public async Task CreateToFirstCall()
    {
        created = await Interpreters.CreateAsync();
        await created.CallAsync(() => Noop.Nothing());
    }
}
