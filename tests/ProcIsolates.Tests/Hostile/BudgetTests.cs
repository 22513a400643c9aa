using System.Diagnostics;

namespace ProcIsolates.Tests.Hostile;

/// <summary>Workers that try to make the host hold memory for them: over a budget they are killed and reported crashed.</summary>
[Collection(nameof(Serial))]
public sealed class BudgetTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_worker_that_demands_items_and_never_reads_them_is_killed_before_the_host_grows()
    {
        // 20 items of 200 KB: every small demand is answered with 4 MB (not spilled: under the 256 KiB threshold).
        InterpreterChannel<byte[]> channel = Interpreters.CreateChannel<byte[]>();
        for (int i = 0; i < 20; i++)
        {
            Assert.True(channel.Writer.TryWrite(new byte[200_000]));
        }

        InterpreterChannel<int> bystanderItems = Interpreters.CreateChannel<int>();
        bystanderItems.Writer.TryWrite(42);
        await using Interpreter bystander = await Interpreters.CreateAsync();

        var budgets = new WorkerBudgets { MaxUnsentChannelBytes = 72L << 20 };
        GC.Collect();
        long before = Process.GetCurrentProcess().WorkingSet64;
        long id = channel.Id;

        // 2,000 rounds would be 8 GB of answers. Whether the answers pile up in the host depends on when the worker's
        // requests reach it before the worker stops; an attempt that does not pile them up harms nothing and is retried.
        InterpreterCrashedException? error = null;
        InterpreterCrashedException? reported = null;
        for (int attempt = 0; attempt < 3 && error is null; attempt++)
        {
            await using Interpreter hostile = await Interpreters.CreateAsync(new InterpreterOptions { Budgets = budgets });
            var crashed = new TaskCompletionSource<InterpreterCrashedException>(TaskCreationOptions.RunContinuationsAsynchronously);
            hostile.Crashed += (_, e) => crashed.TrySetResult(e.Crash);
            try
            {
                await hostile.CallAsync(() => HostileJobs.DemandWithoutReading(channel.Reader, id, 20, 2000)).WaitAsync(TimeSpan.FromSeconds(20));
            }
            catch (InterpreterCrashedException crash)
            {
                error = crash;
                reported = await crashed.Task.WaitAsync(Bound);
            }
            catch (TimeoutException)
            {
                // Not piled up this time; the worker is killed with its interpreter.
            }

            Assert.True(Process.GetCurrentProcess().WorkingSet64 - before < 256L << 20, $"the host grew by {(Process.GetCurrentProcess().WorkingSet64 - before) >> 20} MiB");
        }

        Assert.NotNull(error);
        Assert.Contains("MaxUnsentChannelBytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxUnsentChannelBytes", reported!.Message, StringComparison.Ordinal);

        // Its items went back to the channel; the bystander's channel is untouched.
        await LifecycleTests.WaitUntilAsync(() => channel.Reader.Count == 20);
        Assert.Equal(42, await bystander.CallAsync(() => ProcIsolates.Tests.Channels.ChannelJobs.ReadOne(bystanderItems.Reader, 5000)));
    }

    [Fact]
    public async Task A_worker_that_fills_a_channel_past_its_queued_bytes_budget_is_killed_and_its_items_stay()
    {
        InterpreterChannel<byte[]> channel = Interpreters.CreateChannel<byte[]>();
        await using Interpreter hostile = await Interpreters.CreateAsync(new InterpreterOptions { Budgets = new WorkerBudgets { MaxQueuedBytes = 64L << 20 } });

        // 200 items of 1 MiB (spilled to files, counted by their length) into a channel nobody reads.
        InterpreterCrashedException error = await Assert.ThrowsAsync<InterpreterCrashedException>(
            () => hostile.CallAsync(() => HostileJobs.Fill(channel.Writer, 200, 1 << 20)).WaitAsync(Bound));
        Assert.Contains("MaxQueuedBytes", error.Message, StringComparison.Ordinal);

        // What it wrote before is there, whole, for a reader.
        int count = channel.Reader.Count;
        Assert.InRange(count, 64, 199);
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(1 << 20, (await channel.Reader.ReadAsync()).Length);
        }
    }

    [Fact]
    public async Task A_worker_that_creates_more_channels_than_its_budget_is_killed()
    {
        await using Interpreter hostile = await Interpreters.CreateAsync(new InterpreterOptions { Budgets = new WorkerBudgets { MaxChannelsCreated = 50 } });
        InterpreterCrashedException error = await Assert.ThrowsAsync<InterpreterCrashedException>(() => hostile.ExecAsync("""
            var kept = new List<object>();
            for (int i = 0; i < 1000; i++) kept.Add(Interpreters.CreateChannel<int>());
            Thread.Sleep(30_000);
            """).WaitAsync(Bound));
        Assert.Contains("MaxChannelsCreated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_budget_below_the_flow_control_window_is_refused()
    {
        var options = new InterpreterOptions { Budgets = new WorkerBudgets { MaxUnsentChannelBytes = 1024 } };
        Assert.Throws<ArgumentOutOfRangeException>(() => Interpreters.CreateAsync(options).GetAwaiter().GetResult());
    }
}
