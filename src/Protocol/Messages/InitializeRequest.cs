using MessagePack;

namespace ProcIsolates.Protocol.Messages;

/// <summary>
/// Tells a connected worker which interpreter it is. Sent once, before any exec or call; before that, a spare may be
/// sent any number with <see cref="WarmUpOnly"/>, which change nothing.
/// </summary>
[MessagePackObject]
[MessagePackFormatter(typeof(Formatters.InitializeRequestFormatter))]
public sealed class InitializeRequest
{
    /// <summary>The <see cref="InterpreterId"/> of a request that only runs the path (interpreter ids start at 1).</summary>
    public const long WarmUpOnly = 0;

    /// <summary>The interpreter id the host gave this worker; <c>Interpreters.Current.Id</c> in the worker.</summary>
    [Key(0)]
    public long InterpreterId { get; init; }
}
