using MessagePack;
using MessagePack.Formatters;

namespace ProcIsolates.Protocol.Channels;

/// <summary>Serializes channel ends as their <see cref="ChannelHandle"/>: <c>[id, capacity, kind]</c>.</summary>
public sealed class ChannelEndResolver : IFormatterResolver
{
    /// <summary>The one instance.</summary>
    public static readonly ChannelEndResolver Instance = new();

    private ChannelEndResolver()
    {
    }

    /// <inheritdoc/>
    public IMessagePackFormatter<T>? GetFormatter<T>() => Cache<T>.Formatter;

    private static class Cache<T>
    {
        public static readonly IMessagePackFormatter<T>? Formatter = ChannelEnds.IsEndType(typeof(T)) ? new EndFormatter<T>() : null;
    }

    private sealed class EndFormatter<T> : IMessagePackFormatter<T>
    {
        public void Serialize(ref MessagePackWriter writer, T value, MessagePackSerializerOptions options)
        {
            if (value is null)
            {
                writer.WriteNil();
                return;
            }

            if (value is not IInterpreterChannelEnd end)
            {
                throw new MessagePackSerializationException(
                    $"'{value.GetType()}' lives in one process only; create channels that cross interpreters with Interpreters.CreateChannel.");
            }

            ChannelHandle handle = end.Handle;
            ChannelEndKind wanted = ChannelEnds.KindOf(typeof(T));
            if (wanted != ChannelEndKind.Channel && handle.Kind != ChannelEndKind.Channel && wanted != handle.Kind)
            {
                throw new MessagePackSerializationException($"A {handle.Kind.ToString().ToLowerInvariant()} end cannot travel as '{typeof(T)}'.");
            }

            ChannelEnds.Exporting?.Invoke(handle);
            writer.WriteArrayHeader(3);
            writer.Write(handle.Id);
            writer.Write(handle.Capacity);
            writer.Write((byte)(wanted == ChannelEndKind.Channel ? handle.Kind : wanted));
        }

        public T Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
        {
            if (reader.TryReadNil())
            {
                return default!;
            }

            if (reader.ReadArrayHeader() != 3)
            {
                throw new MessagePackSerializationException("A channel handle is an array of three.");
            }

            long id = reader.ReadInt64();
            int capacity = reader.ReadInt32();
            byte kind = reader.ReadByte();
            if (kind > (byte)ChannelEndKind.Writer || capacity < ChannelHandle.Unbounded)
            {
                throw new MessagePackSerializationException("A channel handle is malformed.");
            }

            var handle = new ChannelHandle(id, capacity, (ChannelEndKind)kind);
            ChannelEndKind wanted = ChannelEnds.KindOf(typeof(T));
            if (wanted != ChannelEndKind.Channel && handle.Kind != ChannelEndKind.Channel && wanted != handle.Kind)
            {
                throw new MessagePackSerializationException($"A {handle.Kind.ToString().ToLowerInvariant()} end cannot become '{typeof(T)}'.");
            }

            if (wanted == ChannelEndKind.Channel && handle.Kind != ChannelEndKind.Channel)
            {
                throw new MessagePackSerializationException($"Only one end of the channel was sent; it cannot become '{typeof(T)}'.");
            }

            Func<ChannelHandle, Type, object> materialize = ChannelEnds.Materializer
                ?? throw new MessagePackSerializationException("Channel ends can only be received where the ProcIsolates library is loaded.");
            return (T)materialize(handle, typeof(T));
        }
    }
}
