using MessagePack;

namespace ProcIsolates.Protocol.Messages;

/// <summary>Calls a static method in the worker.</summary>
[MessagePackObject]
[MessagePackFormatter(typeof(Formatters.CallRequestFormatter))]
public sealed class CallRequest
{
    /// <summary>The assembly-qualified name of the type that declares the method.</summary>
    [Key(0)]
    public required string DeclaringType { get; init; }

    /// <summary>The method's metadata token in its module, which names one overload exactly.</summary>
    [Key(1)]
    public int MetadataToken { get; init; }

    /// <summary>The method's name, checked against the token and used in error messages.</summary>
    [Key(2)]
    public required string MethodName { get; init; }

    /// <summary>Assembly-qualified names of the method's generic arguments; empty for a non-generic method.</summary>
    [Key(3)]
    public string[] GenericArguments { get; init; } = [];

    /// <summary>
    /// One entry per parameter: the argument serialized as the parameter's type, or <see langword="null"/> for a
    /// <see cref="CancellationToken"/> parameter, which receives the call's token in the worker.
    /// </summary>
    [Key(4)]
    public required byte[]?[] Arguments { get; init; }

    /// <summary>
    /// How many channel frames the host had sent this worker when it sent this request: the worker handles them
    /// before the request's code runs, so the code sees every channel news that came before it.
    /// </summary>
    [Key(5)]
    public long ChannelFrames { get; set; }
}
