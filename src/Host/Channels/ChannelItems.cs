using System.Buffers;
using Nerdbank.Streams;
using ProcIsolates.Channels.Spill;
using ProcIsolates.Protocol.Channels;
using ProcIsolates.Protocol.Serialization;

namespace ProcIsolates.Channels;

/// <summary>
/// Turns channel items into bytes and back, reporting values that cannot travel as <see cref="NotShareableException"/>.
/// Large items are spilled to files (see <see cref="SpillStore"/>): what travels is then a small reference.
/// </summary>
internal static class ChannelItems
{
    // Per thread, so that serializing a large item rents pooled arrays instead of allocating on the large-object heap.
    [ThreadStatic]
    private static Sequence<byte>? scratch;

    public static byte[] Serialize<T>(T item)
    {
        // A large byte[] goes to its file straight from the array, without being copied into a buffer first.
        if (typeof(T) == typeof(byte[]) && item is byte[] { Length: >= SpillStore.Threshold and <= ChannelFrame.MaxItemLength - 5 } array
            && SpillStore.TryWrite(array, out byte[] direct))
        {
            return direct;
        }

        Sequence<byte> buffer = scratch ??= new Sequence<byte>(ArrayPool<byte>.Shared);
        try
        {
            ShareableSerializer.Serialize(buffer, item);
            ReadOnlySequence<byte> bytes = buffer.AsReadOnlySequence;
            if (bytes.Length > ChannelFrame.MaxItemLength)
            {
                throw new NotShareableException(typeof(T).FullName ?? typeof(T).Name, $"A channel item is {bytes.Length} bytes serialized; the limit is {ChannelFrame.MaxItemLength}.");
            }

            if (bytes.Length >= SpillStore.Threshold && SpillStore.TryWrite(bytes, out byte[] reference))
            {
                return reference;
            }

            return bytes.ToArray();
        }
        catch (NotShareableValueException ex)
        {
            throw new NotShareableException(ex.ValueType.FullName ?? ex.ValueType.Name, "A channel item is not shareable: " + ex.Message, ex);
        }
        finally
        {
            buffer.Reset();
        }
    }

    /// <summary>Recreates an item.</summary>
    /// <param name="bytes">What the channel carried.</param>
    /// <param name="take">The item is being read (<see langword="false"/>: peeked).</param>
    /// <param name="final">
    /// The item has left the broker for good (read in the host): its spill file, if any, is deleted. A worker's reads
    /// are not final until the host has the acknowledgement, and the host deletes the file then.
    /// </param>
    public static T Deserialize<T>(byte[] bytes, bool take, bool final)
    {
        try
        {
            if (!SpilledItem.TryParse(bytes, out SpilledItem spilled))
            {
                return ShareableSerializer.Deserialize<T>(bytes);
            }

            try
            {
                if (typeof(T) == typeof(byte[]) && SpillStore.TryReadByteArray(bytes, spilled, take, out byte[]? array))
                {
                    return (T)(object)array;
                }

                return SpillStore.Read(bytes, spilled, take, static memory => ShareableSerializer.Deserialize<T>(memory));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new NotShareableException(typeof(T).FullName ?? typeof(T).Name, "A channel item could not be read from its spill file: " + ex.Message, ex);
            }
            finally
            {
                if (take && final)
                {
                    SpillStore.Delete(spilled);
                }
            }
        }
        catch (NotShareableValueException ex)
        {
            throw new NotShareableException(ex.ValueType.FullName ?? ex.ValueType.Name, "A channel item could not be read: " + ex.Message, ex);
        }
    }

    /// <summary>Whether reading an item failed because its spill file was gone (taken by another reader meanwhile).</summary>
    public static bool IsSpillFileGone(NotShareableException exception) => exception.InnerException is FileNotFoundException;

    /// <summary>An item that will not be written after all (refused, or its write failed): its spill file goes.</summary>
    public static void Discard(byte[] bytes) => SpillStore.Discard(bytes);
}
