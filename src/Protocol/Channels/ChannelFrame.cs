using System.Buffers;
using System.Buffers.Binary;
using MessagePack;

namespace ProcIsolates.Protocol.Channels;

/// <summary>
/// One message on a worker's channel-data stream: a 4-byte big-endian length, then the MessagePack array
/// <c>[op, channel, acks, a, b, flag, errorType, errorMessage, item, items]</c>. Every frame a worker sends carries the
/// acknowledgements of the items its readers have finished with, so that an acknowledgement and the write that
/// follows it arrive together or not at all.
/// </summary>
public sealed class ChannelFrame
{
    /// <summary>The largest serialized item a channel carries.</summary>
    public const int MaxItemLength = 64 * 1024 * 1024;

    /// <summary>The largest frame a peer may send (an item and its envelope, or a delivery).</summary>
    public const int MaxFrameLength = MaxItemLength + (1024 * 1024);

    /// <summary>The most acknowledgement numbers or items one frame may carry.</summary>
    public const int MaxListLength = 65_536;

    private const int Fields = 10;

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? scratch;

    /// <summary>What the frame does.</summary>
    public ChannelOp Op { get; init; }

    /// <summary>The channel it is about (for <see cref="ChannelOp.Create"/>, the request number).</summary>
    public long Channel { get; init; }

    /// <summary>Flattened <c>[channel, count, channel, count, …]</c> acknowledgements, or <see langword="null"/>.</summary>
    public IReadOnlyList<long>? Acks { get; set; }

    /// <summary>The op's first number.</summary>
    public long A { get; init; }

    /// <summary>The op's second number.</summary>
    public long B { get; init; }

    /// <summary>The op's flag.</summary>
    public bool Flag { get; init; }

    /// <summary>One serialized item (<see cref="ChannelOp.Write"/>).</summary>
    public ReadOnlyMemory<byte>? Item { get; init; }

    /// <summary>Serialized items (<see cref="ChannelOp.Deliver"/>).</summary>
    public IReadOnlyList<byte[]>? Items { get; init; }

    /// <summary>The type name of the error a channel was completed with.</summary>
    public string? ErrorType { get; init; }

    /// <summary>The message of that error.</summary>
    public string? ErrorMessage { get; init; }

    /// <summary>Appends this frame, length first, to <paramref name="output"/>.</summary>
    /// <param name="output">Where the bytes go.</param>
    public void WriteTo(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);

        // The envelope goes through a small scratch buffer; the items, which can be large, are written once, straight
        // to the output, after it (their length is known in advance, so the frame's length can go first).
        ArrayBufferWriter<byte> envelope = scratch ??= new ArrayBufferWriter<byte>(256);
        envelope.ResetWrittenCount();
        var writer = new MessagePackWriter(envelope);
        writer.WriteArrayHeader(Fields);
        writer.Write((byte)Op);
        writer.Write(Channel);
        if (Acks is null || Acks.Count == 0)
        {
            writer.WriteNil();
        }
        else
        {
            writer.WriteArrayHeader(Acks.Count);
            foreach (long value in Acks)
            {
                writer.Write(value);
            }
        }

        writer.Write(A);
        writer.Write(B);
        writer.Write(Flag);
        writer.Write(ErrorType);
        writer.Write(ErrorMessage);
        writer.Flush();

        long payload = (Item is { } item ? BinLength(item.Length) : 1) + (Items is null ? 1 : ArrayHeaderLength(Items.Count));
        foreach (byte[] one in Items ?? [])
        {
            payload += BinLength(one.Length);
        }

        Span<byte> header = output.GetSpan(4);
        BinaryPrimitives.WriteInt32BigEndian(header, checked((int)(envelope.WrittenCount + payload)));
        output.Advance(4);
        output.Write(envelope.WrittenSpan);

        var direct = new MessagePackWriter(output);
        if (Item is { } single)
        {
            direct.Write(single.Span);
        }
        else
        {
            direct.WriteNil();
        }

        if (Items is null)
        {
            direct.WriteNil();
        }
        else
        {
            direct.WriteArrayHeader(Items.Count);
            foreach (byte[] one in Items)
            {
                direct.Write(one);
            }
        }

        direct.Flush();
    }

    private static long BinLength(int length) => length + (length <= byte.MaxValue ? 2 : length <= ushort.MaxValue ? 3 : 5);

    private static long ArrayHeaderLength(int count) => count <= 15 ? 1 : count <= ushort.MaxValue ? 3 : 5;

    /// <summary>Takes one whole frame off the front of <paramref name="buffer"/>, if it holds one.</summary>
    /// <param name="buffer">Bytes received; advanced past the frame.</param>
    /// <param name="frame">The frame.</param>
    /// <returns><see langword="false"/> when more bytes are needed.</returns>
    /// <exception cref="ChannelProtocolException">The bytes are not a valid frame.</exception>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, out ChannelFrame? frame)
    {
        frame = null;
        if (buffer.Length < 4)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(header);
        int length = BinaryPrimitives.ReadInt32BigEndian(header);
        if (length is <= 0 or > MaxFrameLength)
        {
            throw new ChannelProtocolException($"A channel frame announced {length} bytes; frames are 1 to {MaxFrameLength} bytes.");
        }

        if (buffer.Length < 4 + (long)length)
        {
            return false;
        }

        ReadOnlySequence<byte> body = buffer.Slice(4, length);
        try
        {
            frame = Decode(body);
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or InvalidOperationException or OverflowException or EndOfStreamException)
        {
            throw new ChannelProtocolException("A channel frame is not valid MessagePack of the documented shape: " + ex.Message, ex);
        }

        buffer = buffer.Slice(4 + (long)length);
        return true;
    }

    private static ChannelFrame Decode(ReadOnlySequence<byte> body)
    {
        var reader = new MessagePackReader(body);
        if (reader.ReadArrayHeader() != Fields)
        {
            throw new ChannelProtocolException($"A channel frame is an array of {Fields}.");
        }

        byte op = reader.ReadByte();
        if (!Enum.IsDefined((ChannelOp)op))
        {
            throw new ChannelProtocolException($"Unknown channel op {op}.");
        }

        long channel = reader.ReadInt64();
        long[]? acks = null;
        if (!reader.TryReadNil())
        {
            int count = reader.ReadArrayHeader();
            if (count % 2 != 0 || count > MaxListLength)
            {
                throw new ChannelProtocolException($"Acknowledgements come in pairs, at most {MaxListLength} numbers.");
            }

            acks = new long[count];
            for (int i = 0; i < count; i++)
            {
                acks[i] = reader.ReadInt64();
            }
        }

        long a = reader.ReadInt64();
        long b = reader.ReadInt64();
        bool flag = reader.ReadBoolean();
        string? errorType = reader.ReadString();
        string? errorMessage = reader.ReadString();
        byte[]? item = reader.TryReadNil() ? null : ReadBytes(ref reader);
        List<byte[]>? items = null;
        if (!reader.TryReadNil())
        {
            int count = reader.ReadArrayHeader();
            if (count > MaxListLength)
            {
                throw new ChannelProtocolException($"A frame carries at most {MaxListLength} items.");
            }

            items = new List<byte[]>(Math.Min(count, 1024));
            for (int i = 0; i < count; i++)
            {
                items.Add(ReadBytes(ref reader));
            }
        }

        if (!reader.End)
        {
            throw new ChannelProtocolException("A channel frame has bytes after its array.");
        }

        return new ChannelFrame
        {
            Op = (ChannelOp)op,
            Channel = channel,
            Acks = acks,
            A = a,
            B = b,
            Flag = flag,
            Item = item,
            Items = items,
            ErrorType = errorType,
            ErrorMessage = errorMessage,
        };
    }

    private static byte[] ReadBytes(ref MessagePackReader reader) =>
        reader.ReadBytes() is { } bytes ? bytes.ToArray() : throw new ChannelProtocolException("An item is nil.");
}
