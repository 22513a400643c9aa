using MessagePack;
using MessagePack.Formatters;

namespace ProcIsolates.Protocol.Messages.Formatters;

/// <summary>Writes and reads a <see cref="CallReply"/>: <c>[Result, Error]</c>.</summary>
internal sealed class CallReplyFormatter : IMessagePackFormatter<CallReply?>
{
    public void Serialize(ref MessagePackWriter writer, CallReply? value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        writer.WriteArrayHeader(2);
        MessageReading.Write(ref writer, value.Result, options);
        MessageReading.Write(ref writer, value.Error, options);
    }

    public CallReply? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
        {
            return null;
        }

        int fields = MessageReading.ReadFields(ref reader, options);
        byte[]? result = null;
        RemoteError? error = null;
        for (int i = 0; i < fields; i++)
        {
            switch (i)
            {
                case 0: result = MessageReading.Read<byte[]>(ref reader, options); break;
                case 1: error = MessageReading.Read<RemoteError>(ref reader, options); break;
                default: reader.Skip(); break;
            }
        }

        reader.Depth--;
        return new CallReply { Result = result, Error = error };
    }
}
