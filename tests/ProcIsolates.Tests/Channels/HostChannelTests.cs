using System.Threading.Channels;

namespace ProcIsolates.Tests.Channels;

/// <summary>
/// The host-side ends behave like .NET's own channels: every test runs against <c>System.Threading.Channels</c>
/// ("dotnet") and against an interpreter channel ("interpreter"), with the same assertions.
/// </summary>
public sealed class HostChannelTests
{
    public static TheoryData<string> Kinds => new() { "dotnet", "interpreter" };

    private static Channel<int> Make(string kind, int? capacity) => (kind, capacity) switch
    {
        ("dotnet", null) => Channel.CreateUnbounded<int>(),
        ("dotnet", { } bound) => Channel.CreateBounded<int>(bound),
        (_, _) => Interpreters.CreateChannel<int>(capacity),
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Unbounded_is_fifo_with_count_and_peek(string kind)
    {
        Channel<int> channel = Make(kind, null);
        Assert.True(channel.Reader.CanCount);
        Assert.True(channel.Reader.CanPeek);
        Assert.False(channel.Reader.TryRead(out _));
        Assert.False(channel.Reader.TryPeek(out _));
        for (int i = 1; i <= 3; i++)
        {
            Assert.True(channel.Writer.TryWrite(i));
        }

        Assert.Equal(3, channel.Reader.Count);
        Assert.True(channel.Reader.TryPeek(out int head));
        Assert.Equal(1, head);
        Assert.Equal(1, await channel.Reader.ReadAsync());
        Assert.True(channel.Reader.TryRead(out int second));
        Assert.Equal(2, second);
        Assert.True(await channel.Reader.WaitToReadAsync());
        Assert.Equal(1, channel.Reader.Count);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Complete_lets_readers_drain_then_ends(string kind)
    {
        Channel<int> channel = Make(kind, null);
        channel.Writer.TryWrite(1);
        channel.Writer.TryWrite(2);
        channel.Writer.Complete();

        Assert.False(channel.Writer.TryWrite(3));
        Assert.False(await channel.Writer.WaitToWriteAsync());
        await Assert.ThrowsAsync<ChannelClosedException>(() => channel.Writer.WriteAsync(3).AsTask());
        Assert.Throws<ChannelClosedException>(() => channel.Writer.Complete());
        Assert.False(channel.Writer.TryComplete());
        Assert.False(channel.Reader.Completion.IsCompleted);

        var all = new List<int>();
        await foreach (int item in channel.Reader.ReadAllAsync())
        {
            all.Add(item);
        }

        Assert.Equal([1, 2], all);
        await channel.Reader.Completion.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.False(await channel.Reader.WaitToReadAsync());
        await Assert.ThrowsAsync<ChannelClosedException>(() => channel.Reader.ReadAsync().AsTask());
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Complete_with_an_error_faults_completion_and_reads(string kind)
    {
        Channel<int> channel = Make(kind, null);
        channel.Writer.Complete(new InvalidOperationException("broken"));
        InvalidOperationException completion = await Assert.ThrowsAsync<InvalidOperationException>(() => channel.Reader.Completion);
        Assert.Equal("broken", completion.Message);
        ChannelClosedException read = await Assert.ThrowsAsync<ChannelClosedException>(() => channel.Reader.ReadAsync().AsTask());
        Assert.IsType<InvalidOperationException>(read.InnerException);
        await Assert.ThrowsAsync<InvalidOperationException>(() => channel.Reader.WaitToReadAsync().AsTask());
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_waiting_reader_wakes_on_write_and_on_complete(string kind)
    {
        Channel<int> channel = Make(kind, null);
        ValueTask<int> read = channel.Reader.ReadAsync();
        ValueTask<bool> wait = channel.Reader.WaitToReadAsync();
        Assert.False(read.IsCompleted);
        channel.Writer.TryWrite(7);
        Assert.Equal(7, await read.AsTask().WaitAsync(TimeSpan.FromSeconds(5)));

        Channel<int> other = Make(kind, null);
        ValueTask<bool> waitOther = other.Reader.WaitToReadAsync();
        other.Writer.Complete();
        Assert.False(await waitOther.AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
        _ = wait;
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Cancellation_ends_a_wait_without_losing_items(string kind)
    {
        Channel<int> channel = Make(kind, null);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => channel.Reader.ReadAsync(cancel.Token).AsTask());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => channel.Reader.WaitToReadAsync(cancel.Token).AsTask());

        channel.Writer.TryWrite(5);
        Assert.True(channel.Reader.TryRead(out int item)); // The cancelled read did not take it.
        Assert.Equal(5, item);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Bounded_refuses_when_full_and_waits_for_room(string kind)
    {
        Channel<int> channel = Make(kind, 2);
        Assert.True(channel.Writer.TryWrite(1));
        Assert.True(await channel.Writer.WaitToWriteAsync());
        await channel.Writer.WriteAsync(2);
        Assert.False(channel.Writer.TryWrite(3));

        ValueTask<bool> waitToWrite = channel.Writer.WaitToWriteAsync();
        ValueTask blockedWrite = channel.Writer.WriteAsync(3);
        Assert.False(waitToWrite.IsCompleted);
        Assert.False(blockedWrite.IsCompleted);

        using (var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(50)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => channel.Writer.WriteAsync(99, timeout.Token).AsTask());
        }

        Assert.Equal(1, await channel.Reader.ReadAsync());
        await blockedWrite.AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.False(waitToWrite.IsCompleted); // The blocked write took the room.
        Assert.Equal(2, channel.Reader.Count);
        Assert.Equal(2, await channel.Reader.ReadAsync());
        Assert.True(await waitToWrite.AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(3, await channel.Reader.ReadAsync()); // The cancelled write of 99 never entered.
        Assert.False(channel.Reader.TryRead(out _));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Completing_fails_blocked_writers(string kind)
    {
        Channel<int> channel = Make(kind, 1);
        channel.Writer.TryWrite(1);
        ValueTask blocked = channel.Writer.WriteAsync(2);
        channel.Writer.Complete();
        await Assert.ThrowsAsync<ChannelClosedException>(() => blocked.AsTask());
        Assert.Equal(1, await channel.Reader.ReadAsync());
        await channel.Reader.Completion.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task A_rendezvous_write_wakes_a_reader_waiting_to_read_and_a_cancelled_one_is_never_read(string kind)
    {
        Channel<int> channel = Make(kind, 0);
        ValueTask<bool> waiting = channel.Reader.WaitToReadAsync();
        using var cancel = new CancellationTokenSource();
        ValueTask write = channel.Writer.WriteAsync(1, cancel.Token);
        Assert.True(await waiting.AsTask().WaitAsync(TimeSpan.FromSeconds(5))); // The offer is something to read.
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => write.AsTask());
        Assert.False(channel.Reader.TryRead(out _)); // Cancelled before a reader took it: never delivered.

        ValueTask second = channel.Writer.WriteAsync(2);
        Assert.Equal(2, await channel.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
        await second;
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Rendezvous_hands_over_only_to_a_waiting_reader(string kind)
    {
        Channel<int> channel = Make(kind, 0);
        Assert.False(channel.Writer.TryWrite(1)); // Nobody reads.

        ValueTask write = channel.Writer.WriteAsync(2);
        await Task.Delay(50);
        Assert.False(write.IsCompleted); // Completes only when a reader took it.
        Assert.Equal(2, await channel.Reader.ReadAsync());
        await write.AsTask().WaitAsync(TimeSpan.FromSeconds(5));

        ValueTask<int> read = channel.Reader.ReadAsync();
        Assert.True(await channel.Writer.WaitToWriteAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.True(channel.Writer.TryWrite(3)); // A reader is blocked in ReadAsync.
        Assert.Equal(3, await read);
    }

    [Fact]
    public void The_channel_describes_itself()
    {
        InterpreterChannel<int> unbounded = Interpreters.CreateChannel<int>();
        InterpreterChannel<int> bounded = Interpreters.CreateChannel<int>(capacity: 5);
        InterpreterChannel<int> rendezvous = Interpreters.CreateChannel<int>(capacity: 0);
        Assert.Null(unbounded.Capacity);
        Assert.Equal(5, bounded.Capacity);
        Assert.Equal(0, rendezvous.Capacity);
        Assert.NotEqual(unbounded.Id, bounded.Id);
        Assert.Contains("unbounded", unbounded.ToString(), StringComparison.Ordinal);
        Assert.Contains("capacity=5", bounded.ToString(), StringComparison.Ordinal);
        Assert.Contains("rendezvous", rendezvous.ToString(), StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => Interpreters.CreateChannel<int>(-1));
        unbounded.Writer.TryWrite(1);
        Assert.Equal(1, unbounded.Count);
    }

    [Fact]
    public async Task A_value_that_cannot_travel_fails_at_the_writer_and_nothing_is_sent()
    {
        InterpreterChannel<object> channel = Interpreters.CreateChannel<object>();
        NotShareableException error = Assert.Throws<NotShareableException>(() => channel.Writer.TryWrite(new MemoryStream()));
        Assert.Contains("MemoryStream", error.ValueTypeName, StringComparison.Ordinal);
        await Assert.ThrowsAsync<NotShareableException>(() => channel.Writer.WriteAsync(new Dog()).AsTask());
        Assert.Equal(0, channel.Count);
    }

    [Fact]
    public async Task A_plain_dotnet_channel_cannot_be_passed_to_an_interpreter()
    {
        await using Interpreter worker = await Interpreters.CreateAsync();
        Channel<int> local = Channel.CreateUnbounded<int>();
        NotShareableException error = await Assert.ThrowsAsync<NotShareableException>(() => worker.CallAsync(() => ChannelJobs.Sum(local.Reader)));
        Assert.Contains("CreateChannel", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Items_are_copies_in_their_declared_type()
    {
        InterpreterChannel<Shape> channel = Interpreters.CreateChannel<Shape>();
        var shape = new Shape("tri", [new Point(0, 0), new Point(1, 0), new Point(0, 1)], Color.Green, new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc));
        await channel.Writer.WriteAsync(shape);
        Shape copy = await channel.Reader.ReadAsync();
        Assert.NotSame(shape, copy);
        Assert.Equal(shape.Name, copy.Name);
        Assert.Equal(shape.Corners, copy.Corners);
        Assert.Equal(shape.Made, copy.Made);
    }
}
