using MessagePack;

namespace ProcIsolates.Protocol.Messages.Formatters;

/// <summary>
/// What the protocol messages' formatters share. Each message is a MessagePack array, a field per <c>[Key]</c> index,
/// exactly as MessagePack's attribute-driven formatters write it: the formatters are written out so that no worker
/// builds them with Reflection.Emit at start-up (about 100 ms of CPU on the way to its first answer).
/// </summary>
internal static class MessageReading
{
    /// <summary>Reads a message's array header and enters one level of the reader's depth guard (the caller leaves it).</summary>
    public static int ReadFields(ref MessagePackReader reader, MessagePackSerializerOptions options)
    {
        options.Security.DepthStep(ref reader);
        return reader.ReadArrayHeader();
    }

    /// <summary>A string the message cannot do without.</summary>
    public static string Required(string? value, string message, string field) =>
        value ?? throw new MessagePackSerializationException($"A {message} has no {field}.");

    public static T? Read<T>(ref MessagePackReader reader, MessagePackSerializerOptions options) =>
        options.Resolver.GetFormatterWithVerify<T>().Deserialize(ref reader, options);

    public static void Write<T>(ref MessagePackWriter writer, T value, MessagePackSerializerOptions options) =>
        options.Resolver.GetFormatterWithVerify<T>().Serialize(ref writer, value, options);
}
