using System.Buffers;
using System.Buffers.Binary;
using MessagePack;
using Nerdbank.Streams;
using ProcIsolates.Protocol.Channels;
using ProcIsolates.Protocol.Serialization;
using ProcIsolates.Protocol.Transport;

namespace ProcIsolates.Tests.Protocol;

/// <summary>Pins the channel-data frames and the multiplexing to what docs/protocol.md says.</summary>
public sealed class ChannelFrameTests
{
    [Fact]
    public void A_frame_is_a_length_prefixed_array_of_ten_with_items_last()
    {
        var frame = new ChannelFrame { Op = ChannelOp.Write, Channel = 7, Acks = [7, 2], A = 3, Item = new byte[] { 0x2a } };
        var output = new ArrayBufferWriter<byte>();
        frame.WriteTo(output);
        byte[] bytes = output.WrittenSpan.ToArray();
        Assert.Equal(bytes.Length - 4, BinaryPrimitives.ReadInt32BigEndian(bytes));
        Assert.Equal("""[2,7,[7,2],3,0,false,null,null,"Kg==",null]""", MessagePackSerializer.ConvertToJson(bytes.AsMemory(4)));

        var sequence = new ReadOnlySequence<byte>(bytes);
        Assert.True(ChannelFrame.TryRead(ref sequence, out ChannelFrame? read));
        Assert.Equal(0, sequence.Length);
        Assert.Equal(ChannelOp.Write, read!.Op);
        Assert.Equal([7L, 2L], read.Acks);
        Assert.Equal([0x2a], read.Item!.Value.ToArray());
    }

    [Fact]
    public void A_delivery_carries_its_items_as_an_array_of_bin()
    {
        var frame = new ChannelFrame { Op = ChannelOp.Deliver, Channel = 9, Items = [[1], new byte[70_000]], Flag = true, ErrorType = "E", ErrorMessage = "m" };
        var output = new ArrayBufferWriter<byte>();
        frame.WriteTo(output);
        var sequence = new ReadOnlySequence<byte>(output.WrittenMemory);
        Assert.True(ChannelFrame.TryRead(ref sequence, out ChannelFrame? read));
        Assert.Equal(2, read!.Items!.Count);
        Assert.Equal(70_000, read.Items[1].Length);
        Assert.True(read.Flag);
        Assert.Equal("E", read.ErrorType);
    }

    [Fact]
    public void Partial_and_malformed_frames()
    {
        var output = new ArrayBufferWriter<byte>();
        new ChannelFrame { Op = ChannelOp.Ack }.WriteTo(output);
        var partial = new ReadOnlySequence<byte>(output.WrittenMemory[..^1]);
        Assert.False(ChannelFrame.TryRead(ref partial, out _)); // Needs more bytes.

        Assert.Throws<ChannelProtocolException>(() => Read([0x7f, 0xff, 0xff, 0xff])); // Announces 2 GB.
        Assert.Throws<ChannelProtocolException>(() => Read([0, 0, 0, 3, 0xc1, 0xc1, 0xc1])); // Not MessagePack.
        Assert.Throws<ChannelProtocolException>(() => Read(Frame(MessagePackSerializer.ConvertFromJson("[2,7]")))); // Wrong shape.
        Assert.Throws<ChannelProtocolException>(() => Read(Frame(MessagePackSerializer.ConvertFromJson("""[99,7,null,0,0,false,null,null,null,null]""")))); // Unknown op.
        Assert.Throws<ChannelProtocolException>(() => Read(Frame(MessagePackSerializer.ConvertFromJson("""[8,7,[1],0,0,false,null,null,null,null]""")))); // Odd acks.

        static void Read(byte[] bytes)
        {
            var sequence = new ReadOnlySequence<byte>(bytes);
            ChannelFrame.TryRead(ref sequence, out _);
        }

        static byte[] Frame(byte[] body)
        {
            byte[] bytes = new byte[4 + body.Length];
            BinaryPrimitives.WriteInt32BigEndian(bytes, body.Length);
            body.CopyTo(bytes, 4);
            return bytes;
        }
    }

    [Fact]
    public void A_channel_end_travels_as_id_capacity_and_kind()
    {
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>(capacity: 4);
        byte[] reader = ShareableSerializer.Serialize<System.Threading.Channels.ChannelReader<int>>(channel.Reader);
        Assert.Equal($"[{channel.Id},4,1]", MessagePackSerializer.ConvertToJson(reader));
        Assert.Equal($"[{channel.Id},4,0]", MessagePackSerializer.ConvertToJson(ShareableSerializer.Serialize(channel)));

        // In the host a handle comes back as an end of the same channel.
        System.Threading.Channels.ChannelReader<int> again = ShareableSerializer.Deserialize<System.Threading.Channels.ChannelReader<int>>(reader);
        channel.Writer.TryWrite(5);
        Assert.True(again.TryRead(out int item));
        Assert.Equal(5, item);

        // A reader end cannot become a writer.
        Assert.Throws<NotShareableValueException>(() => ShareableSerializer.Deserialize<System.Threading.Channels.ChannelWriter<int>>(reader));
    }

    [Fact]
    public async Task Calls_and_channel_data_each_reach_the_other_side_on_their_own_connection()
    {
        (Stream hostCalls, Stream workerCalls) = FullDuplexStream.CreatePair();
        (WorkerStreams a, WorkerStreams b) = await ConnectAsync(hostCalls, workerCalls);
        await using (a)
        await using (b)
        {
            await a.ChannelData.Output.WriteAsync(new byte[] { 1, 2, 3 });
            await a.Rpc.Output.WriteAsync(new byte[] { 9 });
            System.IO.Pipelines.ReadResult data = await b.ChannelData.Input.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
            System.IO.Pipelines.ReadResult rpc = await b.Rpc.Input.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5));
            Assert.Equal([1, 2, 3], data.Buffer.ToArray());
            Assert.Equal([9], rpc.Buffer.ToArray());
        }
    }

    [Fact]
    public async Task The_calls_connection_carries_json_rpc_bytes_as_they_are()
    {
        (WorkerStreams host, WorkerStreams worker, Stream rawPeer, Stream unusedPeer) = await ConnectWithRawHostCallsAsync();
        await using (host)
        await using (worker)
        {
            await host.Rpc.Output.WriteAsync(new byte[] { 0, 0, 0, 1, 0x90 });
            byte[] raw = new byte[5];
            await rawPeer.ReadExactlyAsync(raw).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
            Assert.Equal([0, 0, 0, 1, 0x90], raw);
        }

        unusedPeer.Dispose();
    }

    [Fact]
    public async Task Disposing_with_unflushed_call_bytes_closes_the_connection_without_them_and_without_an_error()
    {
        (WorkerStreams host, WorkerStreams worker, Stream rawPeer, Stream unusedPeer) = await ConnectWithRawHostCallsAsync();
        await using (worker)
        {
            // A message half written when the interpreter closes: the connection goes first, so the bytes have nowhere
            // to go, and disposing must neither send them nor throw.
            System.IO.Pipelines.PipeWriter output = host.Rpc.Output;
            output.GetSpan(3)[..3].Fill(0xff);
            output.Advance(3);
            await host.DisposeAsync();

            Assert.Equal(0, await rawPeer.ReadAsync(new byte[8]).AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
        }

        unusedPeer.Dispose();
    }

    /// <summary>
    /// Both sides' streams, with the worker side on a calls connection of its own, so that the test reads the host's
    /// call bytes raw from <c>RawPeer</c>. The caller disposes <c>UnusedPeer</c>.
    /// </summary>
    private static async Task<(WorkerStreams Host, WorkerStreams Worker, Stream RawPeer, Stream UnusedPeer)> ConnectWithRawHostCallsAsync()
    {
        (Stream hostCalls, Stream rawPeer) = FullDuplexStream.CreatePair();
        (Stream unusedCalls, Stream unusedPeer) = FullDuplexStream.CreatePair();
        (WorkerStreams host, WorkerStreams worker) = await ConnectAsync(hostCalls, unusedCalls);
        return (host, worker, rawPeer, unusedPeer);
    }

    /// <summary>Both sides' streams over in-memory connections, the channel data connection made here.</summary>
    private static Task<(WorkerStreams Host, WorkerStreams Worker)> ConnectAsync(Stream hostCalls, Stream workerCalls)
    {
        (Stream hostData, Stream workerData) = FullDuplexStream.CreatePair();
        return Task.FromResult((WorkerStreams.Create(hostCalls, hostData), WorkerStreams.Create(workerCalls, workerData)));
    }
}
