namespace ProcIsolates.Tests;

/// <summary>Tests that need the machine, or the host's set of worker processes, to themselves.</summary>
[CollectionDefinition(nameof(Serial), DisableParallelization = true)]
public sealed class Serial;

[Collection(nameof(Serial))]
public sealed class ParallelismTests
{
    [Fact]
    public async Task Cpu_bound_jobs_in_two_interpreters_run_at_the_same_time()
    {
        // No spare starting in the background: its start-up would take CPU from the two jobs.
        Interpreters.SpareWorkers = 0;
        await using Interpreter a = await Interpreters.CreateAsync();
        await using Interpreter b = await Interpreters.CreateAsync();
        using var restore = new SpareWorkersRestorer();

        // Nothing else of ours may use the CPU meanwhile: wait until the only workers left are these two.
        using (var quiet = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            while (!Processes.ChildrenOf(Environment.ProcessId).Order().SequenceEqual(new[] { a.ProcessId, b.ProcessId }.Order()))
            {
                await Task.Delay(50, quiet.Token);
            }
        }

        // Judged by timestamps taken inside the workers. Each job does the same fixed work; alone it spans some wall
        // time T. Two jobs taking turns on one core would span about 2T; in parallel they span about T. Both workers
        // run the work first so that neither is still compiling it, and the best of three rounds discounts a noisy neighbour.
        const long work = 150_000_000;
        await Task.WhenAll(a.CallAsync(() => TestMethods.Spin(work)), b.CallAsync(() => TestMethods.Spin(work)));
        TimeSpan single = TimeSpan.MaxValue;
        TimeSpan union = TimeSpan.MaxValue;
        for (int round = 0; round < 3; round++)
        {
            long[] alone = await a.CallAsync(() => TestMethods.Spin(work));
            long[][] together = await Task.WhenAll(a.CallAsync(() => TestMethods.Spin(work)), b.CallAsync(() => TestMethods.Spin(work)));
            single = TimeSpan.FromTicks(Math.Min(single.Ticks, alone[1] - alone[0]));
            union = TimeSpan.FromTicks(Math.Min(union.Ticks, Math.Max(together[0][1], together[1][1]) - Math.Min(together[0][0], together[1][0])));
        }

        Assert.True(union < single * 1.5, $"one job spanned {single.TotalMilliseconds:0} ms; two together spanned {union.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task Sixteen_calls_that_block_their_thread_all_run_at_once_in_one_worker()
    {
        // Each call blocks until all sixteen have arrived: with the thread pool's gradual injection (a thread every
        // half second or so) the first ones would give up after a second.
        await using Interpreter interpreter = await Interpreters.CreateAsync();
        bool[] met = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => interpreter.CallAsync(() => TestMethods.MeetBlocking(16, 1000))));
        Assert.All(met, Assert.True);
    }
}

internal sealed class SpareWorkersRestorer : IDisposable
{
    public void Dispose() => Interpreters.SpareWorkers = 1;
}
