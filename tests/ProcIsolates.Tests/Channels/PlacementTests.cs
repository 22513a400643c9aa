using System.Linq.Expressions;

namespace ProcIsolates.Tests.Channels;

/// <summary>Where a channel's two ends are.</summary>
public enum Placement
{
    /// <summary>Both in the host: an ordinary channel, the reference.</summary>
    BothInHost,

    /// <summary>The reader in a worker, the writer in the host.</summary>
    ReaderInWorker,

    /// <summary>The writer in a worker, the reader in the host.</summary>
    WriterInWorker,

    /// <summary>The writer in one worker, the reader in another.</summary>
    TwoWorkers,
}

/// <summary>
/// The behaviours of .NET's own channel tests that mean something across processes (FIFO, ReadAllAsync, completion
/// and its errors, cancellation of waiting operations, TryPeek and Count, many readers and writers), each run with
/// the ends in each <see cref="Placement"/>: every placement must give what both ends in one process give.
/// </summary>
public sealed class PlacementTests(TwoWorkers workers) : IClassFixture<TwoWorkers>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    public static TheoryData<Placement> Placements => [Placement.BothInHost, Placement.ReaderInWorker, Placement.WriterInWorker, Placement.TwoWorkers];

    public static TheoryData<Placement, int?> PlacementsAndCapacities()
    {
        var data = new TheoryData<Placement, int?>();
        foreach (Placement placement in Enum.GetValues<Placement>())
        {
            data.Add(placement, null);
            data.Add(placement, 64);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(PlacementsAndCapacities))]
    public async Task A_hundred_thousand_items_arrive_in_order_through_ReadAllAsync(Placement placement, int? capacity)
    {
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>(capacity);
        (Interpreter? writerAt, Interpreter? readerAt) = await PlaceAsync(placement);

        Task<long[]> read = RunAsync(readerAt, () => PlacementJobs.ReadAllSummary(channel.Reader));
        int written = await RunAsync(writerAt, () => PlacementJobs.Write(channel.Writer, 0, 100_000, false, true)).WaitAsync(Bound);

        Assert.Equal(100_000, written);
        long[] summary = await read.WaitAsync(Bound);
        Assert.Equal([100_000L, 1L, 99_999L * 100_000L / 2], summary);
    }

    [Theory]
    [MemberData(nameof(PlacementsAndCapacities))]
    public async Task Awaited_writes_arrive_in_order(Placement placement, int? capacity)
    {
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>(capacity);
        (Interpreter? writerAt, Interpreter? readerAt) = await PlaceAsync(placement);

        Task<long[]> read = RunAsync(readerAt, () => PlacementJobs.ReadAllSummary(channel.Reader));
        await RunAsync(writerAt, () => PlacementJobs.Write(channel.Writer, 0, 2_000, true, true)).WaitAsync(Bound);

        long[] summary = await read.WaitAsync(Bound);
        Assert.Equal([2_000L, 1L, 1_999L * 2_000L / 2], summary);
    }

    [Theory]
    [MemberData(nameof(Placements))]
    public async Task A_completion_error_ends_the_reader_after_the_items_with_that_error(Placement placement)
    {
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>();
        (Interpreter? writerAt, Interpreter? readerAt) = await PlaceAsync(placement);

        Task<string> read = RunAsync(readerAt, () => PlacementJobs.ReadToTheEnd(channel.Reader));
        await RunAsync(writerAt, () => PlacementJobs.Write(channel.Writer, 0, 5, false, false)).WaitAsync(Bound);
        Assert.True(await RunAsync(writerAt, () => PlacementJobs.Complete(channel.Writer, "boom")).WaitAsync(Bound));

        // In one process the error itself; across processes its type and message, as RemoteChannelException.
        string error = placement == Placement.BothInHost ? nameof(InvalidOperationException) : nameof(RemoteChannelException);
        Assert.Equal($"items=5;end={error}:boom;completion=faulted", await read.WaitAsync(Bound));
        Assert.False(await RunAsync(writerAt, () => PlacementJobs.Complete(channel.Writer, null)).WaitAsync(Bound));
    }

    [Theory]
    [MemberData(nameof(Placements))]
    public async Task A_cancelled_completion_is_a_cancellation_everywhere(Placement placement)
    {
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>();
        (Interpreter? writerAt, Interpreter? readerAt) = await PlaceAsync(placement);

        Task<string> read = RunAsync(readerAt, () => PlacementJobs.ReadToTheEnd(channel.Reader));
        await RunAsync(writerAt, () => PlacementJobs.Write(channel.Writer, 0, 2, false, false)).WaitAsync(Bound);
        Assert.True(await RunAsync(writerAt, () => PlacementJobs.Complete(channel.Writer, "cancel")).WaitAsync(Bound));

        string seen = await read.WaitAsync(Bound);
        Assert.StartsWith("items=2;end=", seen, StringComparison.Ordinal);
        Assert.EndsWith(";completion=canceled", seen, StringComparison.Ordinal);
        Assert.Matches("end=(Task|Operation)CanceledException:", seen);
    }

    [Theory]
    [MemberData(nameof(Placements))]
    public async Task A_cancelled_read_takes_nothing_and_the_next_read_gets_the_next_item(Placement placement)
    {
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>();
        (Interpreter? writerAt, Interpreter? readerAt) = await PlaceAsync(placement);

        Assert.Equal("cancelled", await RunAsync(readerAt, () => PlacementJobs.CancelAWaitingRead(channel.Reader)).WaitAsync(Bound));
        await RunAsync(writerAt, () => PlacementJobs.Write(channel.Writer, 7, 2, true, false)).WaitAsync(Bound);

        Assert.Equal(7, await RunAsync(readerAt, () => PlacementJobs.ReadOne(channel.Reader)).WaitAsync(Bound));
        Assert.Equal(8, await RunAsync(readerAt, () => PlacementJobs.ReadOne(channel.Reader)).WaitAsync(Bound));
    }

    [Theory]
    [MemberData(nameof(Placements))]
    public async Task A_cancelled_write_on_a_full_channel_adds_nothing(Placement placement)
    {
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>(capacity: 1);
        (Interpreter? writerAt, Interpreter? readerAt) = await PlaceAsync(placement);

        Assert.Equal("cancelled", await RunAsync(writerAt, () => PlacementJobs.CancelAWaitingWrite(channel.Writer)).WaitAsync(Bound));
        Assert.True(await RunAsync(writerAt, () => PlacementJobs.Complete(channel.Writer, null)).WaitAsync(Bound));

        Assert.Equal("items=1;end=completed", await RunAsync(readerAt, () => PlacementJobs.ReadToTheEnd(channel.Reader)).WaitAsync(Bound));
    }

    [Theory]
    [MemberData(nameof(Placements))]
    public async Task TryPeek_Count_and_TryRead_agree_with_one_process(Placement placement)
    {
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>(capacity: 10);
        (Interpreter? writerAt, Interpreter? readerAt) = await PlaceAsync(placement);

        await RunAsync(writerAt, () => PlacementJobs.Write(channel.Writer, 0, 3, true, false)).WaitAsync(Bound);

        Assert.Equal("peek=True:0;count=3;read=True:0;count=2;canCount=True;canPeek=True", await RunAsync(readerAt, () => PlacementJobs.PeekCountRead(channel.Reader)).WaitAsync(Bound));
    }

    [Theory]
    [MemberData(nameof(Placements))]
    public async Task Many_writers_and_many_readers_deliver_each_item_exactly_once(Placement placement)
    {
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>(capacity: 32);
        (Interpreter? writerAt, Interpreter? readerAt) = await PlaceAsync(placement);

        Task<int[]> read = RunAsync(readerAt, () => PlacementJobs.ReadWithMany(channel.Reader, 4));
        Assert.Equal(4 * 2_500, await RunAsync(writerAt, () => PlacementJobs.WriteWithMany(channel.Writer, 4, 2_500)).WaitAsync(Bound));

        int[] items = await read.WaitAsync(Bound);
        Assert.Equal(Enumerable.Range(0, 10_000), items.Order());
    }

    [Theory]
    [MemberData(nameof(Placements))]
    public async Task A_rendezvous_channel_hands_over_each_item_in_order(Placement placement)
    {
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>(capacity: 0);
        (Interpreter? writerAt, Interpreter? readerAt) = await PlaceAsync(placement);

        Task<long[]> read = RunAsync(readerAt, () => PlacementJobs.ReadAllSummary(channel.Reader));
        Assert.Equal(500, await RunAsync(writerAt, () => PlacementJobs.Write(channel.Writer, 0, 500, true, true)).WaitAsync(Bound));

        long[] summary = await read.WaitAsync(Bound);
        Assert.Equal([500L, 1L, 499L * 500L / 2], summary);
    }

    [Theory]
    [MemberData(nameof(Placements))]
    public async Task A_write_waiting_on_a_full_channel_ends_with_ChannelClosedException_when_it_is_completed(Placement placement)
    {
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>(capacity: 3);
        (Interpreter? writerAt, Interpreter? readerAt) = await PlaceAsync(placement);

        Task<string> write = RunAsync(writerAt, () => PlacementJobs.WriteOneMoreThanFits(channel.Writer, 3));
        // Until the three fit; the fourth then waits (or, if it has not started yet, meets the completion: the same end).
        await LifecycleTests.WaitUntilAsync(() => channel.Count >= 3);

        Assert.True(channel.Writer.TryComplete());
        Assert.Equal(nameof(System.Threading.Channels.ChannelClosedException), await write.WaitAsync(Bound));
        Assert.Equal("items=3;end=ChannelClosedException", await RunAsync(readerAt, () => PlacementJobs.ReadPastTheEnd(channel.Reader)).WaitAsync(Bound));
    }

    [Theory]
    [MemberData(nameof(Placements))]
    public async Task A_read_waiting_on_an_empty_channel_ends_with_ChannelClosedException_when_it_is_completed(Placement placement)
    {
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>();
        (Interpreter? writerAt, Interpreter? readerAt) = await PlaceAsync(placement);

        Task<string> read = RunAsync(readerAt, () => PlacementJobs.ReadPastTheEnd(channel.Reader));
        await RunAsync(writerAt, () => PlacementJobs.Write(channel.Writer, 0, 2, true, false)).WaitAsync(Bound);
        Assert.True(await RunAsync(writerAt, () => PlacementJobs.Complete(channel.Writer, null)).WaitAsync(Bound));

        Assert.Equal("items=2;end=ChannelClosedException", await read.WaitAsync(Bound));
    }

    /// <summary>Runs a job in the host (null) or in a worker. The job must be the call itself: arguments are evaluated here.</summary>
    private static Task<T> RunAsync<T>(Interpreter? where, Expression<Func<Task<T>>> job) =>
        where is null ? job.Compile()() : where.CallAsync(job);

    private async Task<(Interpreter? Writer, Interpreter? Reader)> PlaceAsync(Placement placement)
    {
        TwoWorkers.Pair pair = await workers.For(Isolation.Process);
        return placement switch
        {
            Placement.BothInHost => (null, null),
            Placement.ReaderInWorker => (null, pair.B),
            Placement.WriterInWorker => (pair.A, null),
            _ => (pair.A, pair.B),
        };
    }
}
