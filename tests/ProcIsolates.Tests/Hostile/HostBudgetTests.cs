namespace ProcIsolates.Tests.Hostile;

/// <summary>
/// Workers each under their own queued-bytes budget, together over the host's: the one holding the most is cut off,
/// the others and their items stay. Alone (it lowers a host-wide setting).
/// </summary>
[Collection(nameof(Serial))]
public sealed class HostBudgetTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Over_the_host_wide_queued_bytes_budget_the_largest_holder_is_killed_and_the_others_go_on()
    {
        long saved = Interpreters.MaxQueuedChannelBytes;
        Interpreters.MaxQueuedChannelBytes = 96L << 20;
        try
        {
            InterpreterChannel<byte[]> bystanderItems = Interpreters.CreateChannel<byte[]>();
            InterpreterChannel<byte[]> hoard = Interpreters.CreateChannel<byte[]>();
            await using Interpreter bystander = await Interpreters.CreateAsync();
            await using Interpreter hostile = await Interpreters.CreateAsync(); // Its own budget (1 GiB) is never reached.

            // The bystander queues 16 MiB and stops; the hostile worker then queues 1 MiB items until it is stopped.
            Assert.Equal(16, await bystander.CallAsync(() => HostileJobs.WriteItems(bystanderItems.Writer, 16, 1 << 20)).WaitAsync(Bound));
            InterpreterCrashedException error = await Assert.ThrowsAsync<InterpreterCrashedException>(
                () => hostile.CallAsync(() => HostileJobs.Fill(hoard.Writer, 400, 1 << 20)).WaitAsync(Bound));
            Assert.Contains("MaxQueuedChannelBytes", error.Message, StringComparison.Ordinal);
            Assert.InRange(hoard.Reader.Count, 70, 399);

            // The bystander is untouched: alive, and its items all there.
            Assert.Equal(3, await bystander.CallAsync(() => TestMethods.Add(1, 2)).WaitAsync(Bound));
            Assert.Equal(16, bystanderItems.Reader.Count);
            for (int i = 0; i < 16; i++)
            {
                Assert.Equal(1 << 20, (await bystanderItems.Reader.ReadAsync()).Length);
            }

            while (hoard.Reader.TryRead(out _))
            {
            }
        }
        finally
        {
            Interpreters.MaxQueuedChannelBytes = saved;
        }
    }
}
