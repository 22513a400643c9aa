using System.Diagnostics;

namespace ProcIsolates.Tests.Hostile;

/// <summary>
/// Items the host holds for a worker outside a channel's queue count against that worker too: items delivered to it
/// and not acknowledged (charged to the reader), and rendezvous offers waiting for a reader (charged to the writer).
/// </summary>
[Collection(nameof(Serial))] // Measures the host's working set.
public sealed class InFlightBudgetTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_worker_that_hoards_delivered_items_without_acknowledging_them_is_cut_off_by_its_queued_bytes_budget()
    {
        InterpreterChannel<int> bystanderItems = Interpreters.CreateChannel<int>();
        bystanderItems.Writer.TryWrite(7);
        await using Interpreter bystander = await Interpreters.CreateAsync().WaitAsync(Bound);
        await using Interpreter hostile = await Interpreters.CreateAsync(new InterpreterOptions { Budgets = new WorkerBudgets { MaxQueuedBytes = 64L << 20 } }).WaitAsync(Bound);
        var crashed = new TaskCompletionSource<InterpreterCrashedException>(TaskCreationOptions.RunContinuationsAsynchronously);
        hostile.Crashed += (_, e) => crashed.TrySetResult(e.Crash);
        GC.Collect();
        long before = Process.GetCurrentProcess().WorkingSet64;

        // 2,000 items of 200 KB = 400 MB, each delivered at once: before in-flight items counted, none of it did.
        InterpreterCrashedException error = await Assert.ThrowsAsync<InterpreterCrashedException>(
            () => hostile.CallAsync(() => ChannelLeakJobs.WriteAndHoardInFlight(2000, 200_000)).WaitAsync(Bound));

        Assert.Contains("MaxQueuedBytes", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxQueuedBytes", (await crashed.Task.WaitAsync(Bound)).Message, StringComparison.Ordinal);
        long grown = Process.GetCurrentProcess().WorkingSet64 - before;
        Assert.True(grown < 256L << 20, $"the host grew by {grown >> 20} MiB");
        Assert.Equal(7, await bystander.CallAsync(() => ProcIsolates.Tests.Channels.ChannelJobs.ReadOne(bystanderItems.Reader, 5000)));
    }

    [Fact]
    public async Task A_worker_that_offers_rendezvous_items_nobody_takes_is_cut_off_by_its_queued_bytes_budget()
    {
        InterpreterChannel<byte[]> rendezvous = Interpreters.CreateChannel<byte[]>(capacity: 0);
        await using Interpreter hostile = await Interpreters.CreateAsync(new InterpreterOptions { Budgets = new WorkerBudgets { MaxQueuedBytes = 64L << 20 } }).WaitAsync(Bound);
        GC.Collect();
        long before = Process.GetCurrentProcess().WorkingSet64;

        // 2,000 offers of 200 KB, under the 10,000-offer cap: 400 MB held for a reader that never comes.
        InterpreterCrashedException error = await Assert.ThrowsAsync<InterpreterCrashedException>(
            () => hostile.CallAsync(() => ChannelLeakJobs.OfferWithoutReader(rendezvous.Writer, rendezvous.Id, 2000, 200_000)).WaitAsync(Bound));

        Assert.Contains("MaxQueuedBytes", error.Message, StringComparison.Ordinal);
        long grown = Process.GetCurrentProcess().WorkingSet64 - before;
        Assert.True(grown < 256L << 20, $"the host grew by {grown >> 20} MiB");
    }
}
