using MessagePack;

namespace ProcIsolates.Protocol.Messages;

/// <summary>Runs a compiled code string in the worker.</summary>
[MessagePackObject]
[MessagePackFormatter(typeof(Formatters.ExecRequestFormatter))]
public sealed class ExecRequest
{
    /// <summary>The content hash that names the compiled assembly (lower-case hex SHA-256).</summary>
    [Key(0)]
    public required string CodeId { get; init; }

    /// <summary>The assembly's bytes, or <see langword="null"/> when this worker was sent them before.</summary>
    [Key(1)]
    public byte[]? Assembly { get; init; }

    /// <summary>The values of the code's variables, each serialized with MessagePack as its declared type.</summary>
    [Key(2)]
    public Dictionary<string, byte[]>? Variables { get; init; }

    /// <summary>
    /// How many channel frames the host had sent this worker when it sent this request: the worker handles them
    /// before the request's code runs, so the code sees every channel news that came before it.
    /// </summary>
    [Key(3)]
    public long ChannelFrames { get; init; }
}
