using ProcIsolates.Protocol.Serialization;

namespace ProcIsolates.Channels;

/// <summary>Turns channel items into bytes and back, reporting values that cannot travel as <see cref="NotShareableException"/>.</summary>
internal static class ChannelItems
{
    public static byte[] Serialize<T>(T item)
    {
        try
        {
            return ShareableSerializer.Serialize(item);
        }
        catch (NotShareableValueException ex)
        {
            throw new NotShareableException(ex.ValueType.FullName ?? ex.ValueType.Name, "A channel item is not shareable: " + ex.Message, ex);
        }
    }

    public static T Deserialize<T>(byte[] bytes)
    {
        try
        {
            return ShareableSerializer.Deserialize<T>(bytes);
        }
        catch (NotShareableValueException ex)
        {
            throw new NotShareableException(ex.ValueType.FullName ?? ex.ValueType.Name, "A channel item could not be read: " + ex.Message, ex);
        }
    }
}
