namespace ProcIsolates.Tests;

[CollectionDefinition(nameof(CpuBound), DisableParallelization = true)]
public sealed class CpuBound;

[Collection(nameof(CpuBound))]
public sealed class ParallelismTests
{
    [Fact]
    public async Task Cpu_bound_jobs_in_two_interpreters_run_at_the_same_time()
    {
        await using Interpreter a = await Interpreters.CreateAsync();
        await using Interpreter b = await Interpreters.CreateAsync();
        await Task.WhenAll(a.CallAsync(() => TestMethods.BurnCpu(10)), b.CallAsync(() => TestMethods.BurnCpu(10))); // warm up

        long[][] spans = await Task.WhenAll(a.CallAsync(() => TestMethods.BurnCpu(1000)), b.CallAsync(() => TestMethods.BurnCpu(1000)));

        // Judged by timestamps taken inside the workers: each job burns 1 s of CPU. Taking turns on one core, the
        // two would span at least 2 s; in parallel they span little more than 1 s.
        TimeSpan union = TimeSpan.FromTicks(Math.Max(spans[0][1], spans[1][1]) - Math.Min(spans[0][0], spans[1][0]));
        Assert.True(union < TimeSpan.FromMilliseconds(1600), $"two 1 s CPU jobs spanned {union.TotalMilliseconds:0} ms");
    }
}
