using MessagePack;

namespace ProcIsolates.Protocol.Messages;

/// <summary>What an exec wrote, how long it ran and, if it threw, why.</summary>
[MessagePackObject]
[MessagePackFormatter(typeof(Formatters.ExecReplyFormatter))]
public sealed class ExecReply
{
    /// <summary>Everything the code wrote to <see cref="Console.Out"/> during the exec.</summary>
    [Key(0)]
    public required string Stdout { get; init; }

    /// <summary>Everything the code wrote to <see cref="Console.Error"/> during the exec.</summary>
    [Key(1)]
    public required string Stderr { get; init; }

    /// <summary>How long the code ran in the worker, in <see cref="TimeSpan"/> ticks.</summary>
    [Key(2)]
    public long DurationTicks { get; init; }

    /// <summary>The error the code threw, or <see langword="null"/> on success.</summary>
    [Key(3)]
    public RemoteError? Error { get; init; }
}
