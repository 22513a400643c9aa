using MessagePack;
using MessagePack.Formatters;

namespace ProcIsolates.Protocol.Messages.Formatters;

/// <summary>
/// Writes and reads a <see cref="CallRequest"/>:
/// <c>[DeclaringType, MetadataToken, MethodName, GenericArguments, Arguments, ChannelFrames]</c>.
/// </summary>
internal sealed class CallRequestFormatter : IMessagePackFormatter<CallRequest?>
{
    public void Serialize(ref MessagePackWriter writer, CallRequest? value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        writer.WriteArrayHeader(6);
        writer.Write(value.DeclaringType);
        writer.Write(value.MetadataToken);
        writer.Write(value.MethodName);
        MessageReading.Write(ref writer, value.GenericArguments, options);
        MessageReading.Write(ref writer, value.Arguments, options);
        writer.Write(value.ChannelFrames);
    }

    public CallRequest? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
        {
            return null;
        }

        int fields = MessageReading.ReadFields(ref reader, options);
        string? declaringType = null;
        int metadataToken = 0;
        string? methodName = null;
        string[]? genericArguments = null;
        byte[]?[]? arguments = null;
        long channelFrames = 0;
        for (int i = 0; i < fields; i++)
        {
            switch (i)
            {
                case 0: declaringType = reader.ReadString(); break;
                case 1: metadataToken = reader.ReadInt32(); break;
                case 2: methodName = reader.ReadString(); break;
                case 3: genericArguments = MessageReading.Read<string[]>(ref reader, options); break;
                case 4: arguments = MessageReading.Read<byte[]?[]>(ref reader, options); break;
                case 5: channelFrames = reader.ReadInt64(); break;
                default: reader.Skip(); break;
            }
        }

        reader.Depth--;
        return new CallRequest
        {
            DeclaringType = MessageReading.Required(declaringType, nameof(CallRequest), nameof(CallRequest.DeclaringType)),
            MetadataToken = metadataToken,
            MethodName = MessageReading.Required(methodName, nameof(CallRequest), nameof(CallRequest.MethodName)),
            GenericArguments = genericArguments ?? [],
            Arguments = arguments ?? throw new MessagePackSerializationException("A CallRequest has no Arguments."),
            ChannelFrames = channelFrames,
        };
    }
}
