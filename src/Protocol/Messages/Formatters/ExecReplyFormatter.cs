using MessagePack;
using MessagePack.Formatters;

namespace ProcIsolates.Protocol.Messages.Formatters;

/// <summary>Writes and reads an <see cref="ExecReply"/>: <c>[Stdout, Stderr, DurationTicks, Error]</c>.</summary>
internal sealed class ExecReplyFormatter : IMessagePackFormatter<ExecReply?>
{
    public void Serialize(ref MessagePackWriter writer, ExecReply? value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        writer.WriteArrayHeader(4);
        writer.Write(value.Stdout);
        writer.Write(value.Stderr);
        writer.Write(value.DurationTicks);
        MessageReading.Write(ref writer, value.Error, options);
    }

    public ExecReply? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
        {
            return null;
        }

        int fields = MessageReading.ReadFields(ref reader, options);
        string? stdout = null;
        string? stderr = null;
        long durationTicks = 0;
        RemoteError? error = null;
        for (int i = 0; i < fields; i++)
        {
            switch (i)
            {
                case 0: stdout = reader.ReadString(); break;
                case 1: stderr = reader.ReadString(); break;
                case 2: durationTicks = reader.ReadInt64(); break;
                case 3: error = MessageReading.Read<RemoteError>(ref reader, options); break;
                default: reader.Skip(); break;
            }
        }

        reader.Depth--;
        return new ExecReply
        {
            Stdout = MessageReading.Required(stdout, nameof(ExecReply), nameof(ExecReply.Stdout)),
            Stderr = MessageReading.Required(stderr, nameof(ExecReply), nameof(ExecReply.Stderr)),
            DurationTicks = durationTicks,
            Error = error,
        };
    }
}
