using System.Threading.Channels;

namespace ProcIsolates.Tests.Channels;

/// <summary>
/// What .NET's channel tests check (completion, TryRead/TryWrite, cancellation, Count), with one end in a worker:
/// each test says what a channel in one process does, and checks that an interpreter sees the same.
/// </summary>
public sealed class CrossProcessConformanceTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static TheoryData<Isolation> Levels => [Isolation.Process, Isolation.AssemblyLoadContext, Isolation.Thread];

    [Theory]
    [MemberData(nameof(Levels))]
    public async Task A_lone_TryRead_takes_every_waiting_item(Isolation isolation)
    {
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>();
        for (int i = 0; i < 6; i++)
        {
            Assert.True(channel.Writer.TryWrite(i));
        }

        await using Interpreter reader = await Interpreters.CreateAsync(new InterpreterOptions { Isolation = isolation });
        int[] seen = await reader.CallAsync(() => ConformanceJobs.TryReadTimes(channel.Reader, 7)).WaitAsync(Timeout);
        Assert.Equal([0, 1, 2, 3, 4, 5, -1], seen);
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public async Task A_TryRead_loop_stops_only_when_the_channel_is_empty(Isolation isolation)
    {
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>();
        for (int i = 0; i < 1000; i++)
        {
            Assert.True(channel.Writer.TryWrite(i));
        }

        await using Interpreter reader = await Interpreters.CreateAsync(new InterpreterOptions { Isolation = isolation });
        int[] seen = await reader.CallAsync(() => ConformanceJobs.DrainWithTryRead(channel.Reader)).WaitAsync(Timeout);
        Assert.Equal(Enumerable.Range(0, 1000), seen);
        Assert.False(channel.Reader.TryRead(out _));
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public async Task TryWrite_on_a_bounded_channel_is_false_only_when_it_is_full(Isolation isolation)
    {
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>(capacity: 4);
        await using Interpreter writer = await Interpreters.CreateAsync(new InterpreterOptions { Isolation = isolation });
        bool[] answers = await writer.CallAsync(() => ConformanceJobs.TryWriteTimes(channel.Writer, 5)).WaitAsync(Timeout);
        Assert.Equal([true, true, true, true, false], answers);
        Assert.Equal(4, channel.Count);
        for (int i = 0; i < 4; i++)
        {
            Assert.True(channel.Reader.TryRead(out int item));
            Assert.Equal(i, item);
        }
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public async Task A_writer_end_that_arrives_after_the_completion_sees_it(Isolation isolation)
    {
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>();
        Assert.True(channel.Writer.TryWrite(41));
        Assert.True(channel.Writer.TryComplete());

        await using Interpreter writer = await Interpreters.CreateAsync(new InterpreterOptions { Isolation = isolation });
        string seen = await writer.CallAsync(() => ConformanceJobs.ProbeCompletedWriter(channel.Writer)).WaitAsync(Timeout);
        Assert.Equal("wait=False;try=False;write=ChannelClosedException;complete=False", seen);

        // Nothing the worker tried was added: the one item written before the completion is all there is.
        Assert.Equal(41, await channel.Reader.ReadAsync().AsTask().WaitAsync(Timeout));
        await channel.Reader.Completion.WaitAsync(Timeout);
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public async Task A_writer_end_held_from_before_sees_a_completion_made_before_the_next_call(Isolation isolation)
    {
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>();
        await using Interpreter writer = await Interpreters.CreateAsync(new InterpreterOptions { Isolation = isolation });
        Assert.True(await writer.CallAsync(() => ChannelJobs.TryWriteOne(channel.Writer, 1)).WaitAsync(Timeout));

        Assert.True(channel.Writer.TryComplete());
        string seen = await writer.CallAsync(() => ConformanceJobs.ProbeCompletedWriter(channel.Writer)).WaitAsync(Timeout);
        Assert.Equal("wait=False;try=False;write=ChannelClosedException;complete=False", seen);
        Assert.Equal(1, await channel.Reader.ReadAsync().AsTask().WaitAsync(Timeout));
        await channel.Reader.Completion.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Writes_racing_a_completion_are_either_read_or_refused()
    {
        // The worker writes as fast as it can while the host completes: every TryWrite that said true is read.
        for (int round = 0; round < 5; round++)
        {
            InterpreterChannel<int> channel = Interpreters.CreateChannel<int>();
            await using Interpreter writer = await Interpreters.CreateAsync();
            Task<int> writing = writer.CallAsync(() => ConformanceJobs.TryWriteAll(channel.Writer, 2_000_000));
            await LifecycleTests.WaitUntilAsync(() => channel.Reader.TryPeek(out _));
            Assert.True(channel.Writer.TryComplete());
            int accepted = await writing.WaitAsync(Timeout);

            int read = 0;
            await foreach (int item in channel.Reader.ReadAllAsync().WithCancellation(new CancellationTokenSource(Timeout).Token))
            {
                Assert.Equal(read, item);
                read++;
            }

            Assert.Equal(accepted, read);
            Assert.True(accepted < 2_000_000, "The completion came after every write; the race was not run.");
        }
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public async Task Waiting_with_a_cancelled_token_returns_a_cancelled_task(Isolation isolation)
    {
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>(capacity: 4);
        await using Interpreter worker = await Interpreters.CreateAsync(new InterpreterOptions { Isolation = isolation });
        string seen = await worker.CallAsync(() => ConformanceJobs.WaitWithCancelledToken(channel.Writer, channel.Reader)).WaitAsync(Timeout);
        Assert.Equal("write=True;read=True", seen);
    }

    [Theory]
    [MemberData(nameof(Levels))]
    public async Task A_completion_with_a_cancellation_reaches_readers_as_a_cancellation(Isolation isolation)
    {
        // Completed in the host, read in the interpreter.
        InterpreterChannel<int> first = Interpreters.CreateChannel<int>();
        Assert.True(first.Writer.TryComplete(new OperationCanceledException("stopped")));
        await using Interpreter worker = await Interpreters.CreateAsync(new InterpreterOptions { Isolation = isolation });
        Assert.Equal("completion=Canceled;read=canceled", await worker.CallAsync(() => ConformanceJobs.ObserveCancelledCompletion(first.Reader)).WaitAsync(Timeout));

        // Completed in the interpreter, read in the host.
        InterpreterChannel<int> second = Interpreters.CreateChannel<int>();
        Assert.True(await worker.CallAsync(() => ConformanceJobs.CompleteCancelled(second.Writer)).WaitAsync(Timeout));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second.Reader.ReadAsync().AsTask().WaitAsync(Timeout));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second.Reader.Completion.WaitAsync(Timeout));
        Assert.True(second.Reader.Completion.IsCanceled);
    }

    [Fact]
    public async Task A_rendezvous_channel_counts_no_items_while_writers_wait()
    {
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>(capacity: 0);
        await using Interpreter writer = await Interpreters.CreateAsync();
        Task<bool> offer = writer.CallAsync(() => ChannelJobs.WriteWithin(channel.Writer, 7, 20_000));
        await LifecycleTests.WaitUntilAsync(() => channel.Reader.TryPeek(out _));
        Assert.Equal(0, channel.Count);
        Assert.Equal(0, channel.Reader.Count);
        Assert.Equal(7, await channel.Reader.ReadAsync().AsTask().WaitAsync(Timeout));
        Assert.True(await offer.WaitAsync(Timeout));
    }
}
