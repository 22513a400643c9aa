namespace ProcIsolates;

/// <summary>
/// How much a worker may make the host hold for it, beyond which the worker is killed and its interpreter reported
/// crashed (<see cref="InterpreterCrashedException"/> and <see cref="Interpreter.Crashed"/>, with the budget named).
/// The defaults are far above what a working program needs; lower them for code you do not trust, raise them if a
/// legitimate workload meets them. Set per interpreter with <see cref="InterpreterOptions.Budgets"/>.
/// </summary>
public sealed record WorkerBudgets
{
    /// <summary>The defaults: 256 MiB of unsent channel data, 1 GiB of items waiting in channels, 100,000 channels created.</summary>
    public static WorkerBudgets Default { get; } = new();

    /// <summary>
    /// The most channel data (items delivered to it, answers) the host may hold unsent because the worker does not
    /// read its channel stream: 256 MiB by default, at least 72 MiB (the largest item and the flow-control window). A
    /// worker that reads normally holds little more than its readers asked for (up to 4 MiB per waiting read); one that
    /// asks for items again and again without reading them would otherwise grow the host without end.
    /// </summary>
    public long MaxUnsentChannelBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>
    /// The most bytes of channel items the host may hold for the worker at once (a spilled item counts its file's
    /// length): items it wrote that wait in channels or as rendezvous offers, and items delivered to its readers that it
    /// has not acknowledged. 1 GiB by default. Over it the worker is killed and reported crashed; the items it wrote stay
    /// in their channels for their readers (nothing that a write reported done is lost).
    /// </summary>
    public long MaxQueuedBytes { get; init; } = 1L << 30;

    /// <summary>How many channels the interpreter's workers may create over the interpreter's life (a worker that replaces a crashed one goes on from its count): 100,000 by default.</summary>
    public int MaxChannelsCreated { get; init; } = 100_000;

    private const long MinimumUnsentChannelBytes = Protocol.Channels.ChannelFrame.MaxItemLength + (8L * 1024 * 1024);

    internal void Validate()
    {
        if (MaxUnsentChannelBytes < MinimumUnsentChannelBytes)
        {
            throw new ArgumentOutOfRangeException(nameof(InterpreterOptions.Budgets), MaxUnsentChannelBytes, "WorkerBudgets.MaxUnsentChannelBytes is at least 72 MiB: the largest channel item and the channel stream's flow-control window.");
        }

        if (MaxQueuedBytes < Protocol.Channels.ChannelFrame.MaxItemLength)
        {
            throw new ArgumentOutOfRangeException(nameof(InterpreterOptions.Budgets), MaxQueuedBytes, "WorkerBudgets.MaxQueuedBytes is at least 64 MiB, the largest channel item.");
        }

        if (MaxChannelsCreated < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(InterpreterOptions.Budgets), MaxChannelsCreated, "WorkerBudgets.MaxChannelsCreated cannot be negative.");
        }
    }
}
