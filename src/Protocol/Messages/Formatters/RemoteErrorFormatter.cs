using MessagePack;
using MessagePack.Formatters;

namespace ProcIsolates.Protocol.Messages.Formatters;

/// <summary>Writes and reads a <see cref="RemoteError"/>: <c>[Kind, TypeName, Message, StackTrace, Detail]</c>, the kind as its number.</summary>
internal sealed class RemoteErrorFormatter : IMessagePackFormatter<RemoteError?>
{
    public void Serialize(ref MessagePackWriter writer, RemoteError? value, MessagePackSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        writer.WriteArrayHeader(5);
        writer.Write((int)value.Kind);
        writer.Write(value.TypeName);
        writer.Write(value.Message);
        writer.Write(value.StackTrace);
        writer.Write(value.Detail);
    }

    public RemoteError? Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        if (reader.TryReadNil())
        {
            return null;
        }

        int fields = MessageReading.ReadFields(ref reader, options);
        var kind = RemoteErrorKind.Exception;
        string? typeName = null;
        string? message = null;
        string? stackTrace = null;
        string? detail = null;
        for (int i = 0; i < fields; i++)
        {
            switch (i)
            {
                case 0: kind = (RemoteErrorKind)reader.ReadInt32(); break;
                case 1: typeName = reader.ReadString(); break;
                case 2: message = reader.ReadString(); break;
                case 3: stackTrace = reader.ReadString(); break;
                case 4: detail = reader.ReadString(); break;
                default: reader.Skip(); break;
            }
        }

        reader.Depth--;
        return new RemoteError
        {
            Kind = kind,
            TypeName = MessageReading.Required(typeName, nameof(RemoteError), nameof(RemoteError.TypeName)),
            Message = MessageReading.Required(message, nameof(RemoteError), nameof(RemoteError.Message)),
            StackTrace = stackTrace,
            Detail = detail,
        };
    }
}
