using MessagePack;

namespace ProcIsolates.Protocol.Messages;

/// <summary>The outcome of a <see cref="CallRequest"/>.</summary>
[MessagePackObject]
[MessagePackFormatter(typeof(Formatters.CallReplyFormatter))]
public sealed class CallReply
{
    /// <summary>The result serialized as the method's result type; <see langword="null"/> for void and <see cref="Task"/> methods.</summary>
    [Key(0)]
    public byte[]? Result { get; init; }

    /// <summary>The error the method threw, or <see langword="null"/> on success.</summary>
    [Key(1)]
    public RemoteError? Error { get; init; }
}
