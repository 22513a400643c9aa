using MessagePack;
using MessagePack.Formatters;

namespace ProcIsolates.Protocol.Messages.Formatters;

/// <summary>Writes and reads an <see cref="InitializeRequest"/>: <c>[InterpreterId]</c>.</summary>
internal sealed class InitializeRequestFormatter : IMessagePackFormatter<InitializeRequest?>
{
    public void Serialize(ref MessagePackWriter writer, InitializeRequest? value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        writer.WriteArrayHeader(1);
        writer.Write(value.InterpreterId);
    }

    public InitializeRequest? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
        {
            return null;
        }

        int fields = MessageReading.ReadFields(ref reader, options);
        long interpreterId = 0;
        for (int i = 0; i < fields; i++)
        {
            switch (i)
            {
                case 0: interpreterId = reader.ReadInt64(); break;
                default: reader.Skip(); break;
            }
        }

        reader.Depth--;
        return new InitializeRequest { InterpreterId = interpreterId };
    }
}
