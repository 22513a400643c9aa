using MessagePack;
using MessagePack.Formatters;

namespace ProcIsolates.Protocol.Messages.Formatters;

/// <summary>Writes and reads an <see cref="ExecRequest"/>: <c>[CodeId, Assembly, Variables, ChannelFrames]</c>.</summary>
internal sealed class ExecRequestFormatter : IMessagePackFormatter<ExecRequest?>
{
    public void Serialize(ref MessagePackWriter writer, ExecRequest? value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        writer.WriteArrayHeader(4);
        writer.Write(value.CodeId);
        MessageReading.Write(ref writer, value.Assembly, options);
        MessageReading.Write(ref writer, value.Variables, options);
        writer.Write(value.ChannelFrames);
    }

    public ExecRequest? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
        {
            return null;
        }

        int fields = MessageReading.ReadFields(ref reader, options);
        string? codeId = null;
        byte[]? assembly = null;
        Dictionary<string, byte[]>? variables = null;
        long channelFrames = 0;
        for (int i = 0; i < fields; i++)
        {
            switch (i)
            {
                case 0: codeId = reader.ReadString(); break;
                case 1: assembly = MessageReading.Read<byte[]>(ref reader, options); break;
                case 2: variables = MessageReading.Read<Dictionary<string, byte[]>>(ref reader, options); break;
                case 3: channelFrames = reader.ReadInt64(); break;
                default: reader.Skip(); break;
            }
        }

        reader.Depth--;
        return new ExecRequest
        {
            CodeId = MessageReading.Required(codeId, nameof(ExecRequest), nameof(ExecRequest.CodeId)),
            Assembly = assembly,
            Variables = variables,
            ChannelFrames = channelFrames,
        };
    }
}
