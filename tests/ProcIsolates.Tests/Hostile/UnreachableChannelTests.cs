using System.Threading.Channels;
using ProcIsolates.Channels.Broker;

namespace ProcIsolates.Tests.Hostile;

/// <summary>
/// A channel that a worker created and filled, whose handle never left it, ends with that worker: its items, spill
/// files and charges are freed, instead of staying until the host exits. A channel whose handle did leave is kept.
/// </summary>
[Collection(nameof(Serial))] // Counts the host's live channels and spill files.
public sealed class UnreachableChannelTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("close")]
    [InlineData("crash")]
    public async Task A_channel_only_its_dead_worker_could_reach_is_freed_with_its_items_and_spill_files(string ending)
    {
        int channelsBefore = ChannelBroker.LiveCount;
        int spillFilesBefore = SpillFiles();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long memoryBefore = GC.GetTotalMemory(forceFullCollection: true);

        for (int round = 0; round < 3; round++)
        {
            Interpreter leaky = await Interpreters.CreateAsync().WaitAsync(Bound);
            long id = await leaky.CallAsync(() => ChannelLeakJobs.FillOwnChannel(10, 200, 100_000)).WaitAsync(Bound);
            BrokeredChannel held = ChannelBroker.TryFind(id) ?? throw new Xunit.Sdk.XunitException("The worker's channel is not in the broker.");
            Assert.Equal(210, held.Count);
            Assert.False(held.IsShared);
            Assert.True(SpillFiles() >= spillFilesBefore + 10);

            if (ending == "crash")
            {
                await Assert.ThrowsAsync<InterpreterCrashedException>(() => leaky.CallAsync(() => TestMethods.FailFast("leaves a full channel behind")));
            }

            await leaky.CloseAsync();

            // Ended: gone from the broker, its completion faulted with why, its files deleted.
            await LifecycleTests.WaitUntilAsync(() => ChannelBroker.TryFind(id) is null);
            Assert.True(held.Completion.IsCompleted);
            InvalidOperationException ended = await Assert.ThrowsAsync<InvalidOperationException>(() => held.Completion);
            Assert.Contains("ended with the worker that created it", ended.Message, StringComparison.Ordinal);
            await LifecycleTests.WaitUntilAsync(() => SpillFiles() <= spillFilesBefore);
        }

        Assert.True(ChannelBroker.LiveCount <= channelsBefore, $"live channels: {ChannelBroker.LiveCount}, before: {channelsBefore}");
        long grown = GC.GetTotalMemory(forceFullCollection: true) - memoryBefore;
        Assert.True(grown < 16L << 20, $"the host's heap grew by {grown >> 20} MiB over 3 rounds of 20 MB left in channels");
    }

    [Fact]
    public async Task A_channel_returned_to_the_host_keeps_its_items_after_its_creator_closes()
    {
        InterpreterChannel<int> returned;
        await using (Interpreter creator = await Interpreters.CreateAsync().WaitAsync(Bound))
        {
            returned = await creator.CallAsync(() => ChannelLeakJobs.FillAndReturn(100)).WaitAsync(Bound);
        }

        for (int i = 1; i <= 100; i++)
        {
            Assert.Equal(i, await returned.Reader.ReadAsync().AsTask().WaitAsync(Bound));
        }

        Assert.True(returned.Writer.TryComplete());
    }

    [Fact]
    public async Task A_channel_whose_reader_was_sent_through_another_channel_keeps_its_items_for_a_bystander()
    {
        InterpreterChannel<ChannelReader<int>> via = Interpreters.CreateChannel<ChannelReader<int>>();
        long id;
        await using (Interpreter creator = await Interpreters.CreateAsync().WaitAsync(Bound))
        {
            id = await creator.CallAsync(() => ChannelLeakJobs.FillAndSendReader(via.Writer, 50)).WaitAsync(Bound);
            Assert.True(ChannelBroker.TryFind(id)!.IsShared); // Told before the item that carries it.
        }

        // The creator is gone; a bystander worker is handed the reader end and reads everything.
        await using Interpreter bystander = await Interpreters.CreateAsync().WaitAsync(Bound);
        long sum = await bystander.CallAsync(() => ProcIsolates.Tests.Channels.ChannelJobs.ReceiveEndAndSum(via.Reader, 50)).WaitAsync(Bound);
        Assert.Equal(50 * 51 / 2, sum);
    }

    private static int SpillFiles() =>
        ProcIsolates.Channels.Spill.SpillStore.HostDirectory is { } directory && Directory.Exists(directory) ? Directory.GetFiles(directory).Length : 0;
}
