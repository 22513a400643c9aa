using System.Buffers.Binary;
using System.Threading.Channels;

namespace ProcIsolates.Tests.Channels.NoProcess;

/// <summary>
/// The broker's and the client's state machines through the channel protocol, with no worker process: the same
/// promises as the cross-process tests (PlacementTests, CrossProcessConformanceTests), each in milliseconds.
/// </summary>
public sealed class BrokerClientTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Items_written_by_the_client_arrive_in_the_host_in_order()
    {
        var pair = new BrokerAndClient();
        InterpreterChannel<int> channel = BrokerAndClient.HostChannel(capacity: 16);
        ChannelWriter<int> writer = pair.ClientEnd(channel).Writer;

        Task<List<int>> read = ReadAllAsync(channel.Reader);
        for (int i = 0; i < 10_000; i++)
        {
            if (i % 2 == 0)
            {
                await writer.WriteAsync(i).AsTask().WaitAsync(Bound);
            }
            else
            {
                while (!writer.TryWrite(i))
                {
                    Assert.True(await writer.WaitToWriteAsync().AsTask().WaitAsync(Bound));
                }
            }
        }

        writer.Complete();
        Assert.Equal(Enumerable.Range(0, 10_000), await read.WaitAsync(Bound));
        Assert.Empty(pair.Violations);
    }

    [Fact]
    public async Task A_client_TryRead_takes_every_waiting_item_and_TryWrite_is_false_only_when_full()
    {
        var pair = new BrokerAndClient();
        InterpreterChannel<int> waiting = BrokerAndClient.HostChannel(capacity: null);
        for (int i = 0; i < 6; i++)
        {
            Assert.True(waiting.Writer.TryWrite(i));
        }

        ChannelReader<int> reader = pair.ClientEnd(waiting).Reader;
        var taken = new List<int>();
        while (reader.TryRead(out int item))
        {
            taken.Add(item);
        }

        Assert.Equal([0, 1, 2, 3, 4, 5], taken);

        InterpreterChannel<int> bounded = BrokerAndClient.HostChannel(capacity: 4);
        ChannelWriter<int> writer = pair.ClientEnd(bounded).Writer;
        Assert.Equal([true, true, true, true, false], Enumerable.Range(0, 5).Select(writer.TryWrite).ToArray());
        Assert.Equal(4, bounded.Count);
    }

    [Fact]
    public async Task A_client_end_held_across_a_host_completion_refuses_every_write()
    {
        var pair = new BrokerAndClient();
        InterpreterChannel<int> channel = BrokerAndClient.HostChannel(capacity: null);
        ChannelWriter<int> writer = pair.ClientEnd(channel).Writer;
        Assert.True(writer.TryWrite(1));
        Assert.True(channel.Writer.TryComplete());

        // The completion reaches the client as a frame. A call carries the count of frames sent to its worker, which
        // handles that many before the code runs; here the test waits for them the same way.
        await pair.Client.WaitForFramesAsync(pair.Session.SentFrames).AsTask().WaitAsync(Bound);
        Assert.False(await writer.WaitToWriteAsync().AsTask().WaitAsync(Bound));
        Assert.False(writer.TryWrite(2));
        await Assert.ThrowsAsync<ChannelClosedException>(() => writer.WriteAsync(3).AsTask().WaitAsync(Bound));
        Assert.False(writer.TryComplete());
        Assert.Equal([1], await ReadAllAsync(channel.Reader).WaitAsync(Bound));
    }

    [Fact]
    public async Task Items_fetched_by_a_client_that_goes_away_return_to_the_channel()
    {
        var pair = new BrokerAndClient();
        InterpreterChannel<int> channel = BrokerAndClient.HostChannel(capacity: null);
        for (int i = 0; i < 5; i++)
        {
            Assert.True(channel.Writer.TryWrite(i));
        }

        ChannelReader<int> reader = pair.ClientEnd(channel).Reader;
        Assert.True(await reader.WaitToReadAsync().AsTask().WaitAsync(Bound)); // Fetches a batch, reads nothing.
        pair.Session.Close(); // The "worker" is gone.

        channel.Writer.Complete();
        Assert.Equal([0, 1, 2, 3, 4], await ReadAllAsync(channel.Reader).WaitAsync(Bound));
    }

    [Fact]
    public async Task A_frame_that_is_not_the_protocol_is_a_violation_with_its_reason()
    {
        var pair = new BrokerAndClient();
        byte[] garbage = new byte[9];
        BinaryPrimitives.WriteInt32BigEndian(garbage, 5);
        garbage.AsSpan(4).Fill(0xc1); // 0xc1 is never used in MessagePack.
        await pair.ClientPipe.Output.WriteAsync(garbage);

        await pair.Session.Reading.WaitAsync(Bound);
        Assert.Contains(pair.Violations, v => v.Contains("channel protocol", StringComparison.Ordinal));
    }

    private static async Task<List<int>> ReadAllAsync(ChannelReader<int> reader)
    {
        var items = new List<int>();
        await foreach (int item in reader.ReadAllAsync())
        {
            items.Add(item);
        }

        return items;
    }
}
