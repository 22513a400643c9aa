using System.Buffers;
using System.Buffers.Binary;
using MessagePack;

namespace ProcIsolates.Channels.Spill;

/// <summary>
/// What a channel carries in place of a large item: a MessagePack extension value of type <see cref="ExtensionType"/>
/// naming the file the writer put the item's bytes in. Its payload is the file's number (8 bytes, big-endian), a random
/// key (8 bytes), the item's length (4 bytes, big-endian) and the writer's tag (1 to <see cref="MaxTagLength"/> ASCII
/// letters and digits). The item serializer never writes this extension type, so a real item cannot be mistaken for
/// one. The key makes the file's name unguessable: the directory cannot be listed, so only whoever was handed the
/// reference can open the file.
/// </summary>
/// <param name="Tag">Who wrote the file: <c>h</c> for the host, <c>w</c> and a random number for a worker.</param>
/// <param name="Number">The file's number among the writer's files.</param>
/// <param name="Key">The random part of the file's name.</param>
/// <param name="Length">The item's serialized length, which is the file's length.</param>
internal readonly record struct SpilledItem(string Tag, long Number, long Key, int Length)
{
    /// <summary>The MessagePack extension type code of a spilled item.</summary>
    public const sbyte ExtensionType = 80;

    /// <summary>The longest writer tag.</summary>
    public const int MaxTagLength = 16;

    private const int FixedPayload = 20;

    /// <summary>The file's name in the spill directory.</summary>
    public string FileName => $"{Tag}-{Number:x}-{Key:x16}";

    /// <summary>The length of the item a channel item stands for: its own, or the spilled item's.</summary>
    public static long CarriedLength(byte[] item) => TryParse(item, out SpilledItem spilled) ? spilled.Length : item.Length;

    /// <summary>Whether <paramref name="tag"/> is a valid writer tag.</summary>
    public static bool IsValidTag(string tag) =>
        tag.Length is > 0 and <= MaxTagLength && tag.All(c => char.IsAsciiDigit(c) || char.IsAsciiLetterLower(c));

    /// <summary>The bytes that travel on the channel.</summary>
    public byte[] ToBytes()
    {
        byte[] payload = new byte[FixedPayload + Tag.Length];
        BinaryPrimitives.WriteInt64BigEndian(payload, Number);
        BinaryPrimitives.WriteInt64BigEndian(payload.AsSpan(8), Key);
        BinaryPrimitives.WriteInt32BigEndian(payload.AsSpan(16), Length);
        System.Text.Encoding.ASCII.GetBytes(Tag, payload.AsSpan(FixedPayload));
        var output = new ArrayBufferWriter<byte>(payload.Length + 3);
        var writer = new MessagePackWriter(output);
        writer.WriteExtensionFormat(new ExtensionResult(ExtensionType, payload));
        writer.Flush();
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Reads a channel item as a spilled item, if it is one.</summary>
    /// <param name="item">A channel item's bytes.</param>
    /// <param name="spilled">The spilled item.</param>
    /// <returns><see langword="false"/> for an item that travels whole (the usual case: one byte is looked at).</returns>
    public static bool TryParse(byte[] item, out SpilledItem spilled)
    {
        spilled = default;

        // ext 8 (0xc7): the only header a payload of 21 to 36 bytes gets.
        if (item.Length is < FixedPayload + 4 or > FixedPayload + MaxTagLength + 3 || item[0] != 0xc7)
        {
            return false;
        }

        try
        {
            var reader = new MessagePackReader(item);
            ExtensionResult extension = reader.ReadExtensionFormat();
            if (extension.TypeCode != ExtensionType || !reader.End || extension.Data.Length is <= FixedPayload or > FixedPayload + MaxTagLength)
            {
                return false;
            }

            byte[] payload = extension.Data.ToArray();
            string tag = System.Text.Encoding.ASCII.GetString(payload, FixedPayload, payload.Length - FixedPayload);
            long number = BinaryPrimitives.ReadInt64BigEndian(payload);
            long key = BinaryPrimitives.ReadInt64BigEndian(payload.AsSpan(8));
            int length = BinaryPrimitives.ReadInt32BigEndian(payload.AsSpan(16));
            if (!IsValidTag(tag) || number <= 0 || length is < 0 or > Protocol.Channels.ChannelFrame.MaxItemLength)
            {
                return false;
            }

            spilled = new SpilledItem(tag, number, key, length);
            return true;
        }
        catch (MessagePackSerializationException)
        {
            return false;
        }
        catch (EndOfStreamException)
        {
            return false;
        }
    }
}
