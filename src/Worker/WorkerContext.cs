namespace ProcIsolates.Worker;

/// <summary>Tells code whether it runs inside a worker process, and as which interpreter.</summary>
internal static class WorkerContext
{
    /// <summary>The id of the interpreter this process is; <see langword="null"/> outside a worker and in a spare worker not yet given out.</summary>
    public static long? InterpreterId { get; internal set; }

    /// <summary>The host's process id, or <see langword="null"/> outside a worker.</summary>
    public static int? HostProcessId { get; internal set; }

    /// <summary>The channel-data stream to the host's broker, or <see langword="null"/> outside a worker; the first use starts it.</summary>
    public static System.IO.Pipelines.IDuplexPipe? ChannelData => Streams?.ChannelData;

    /// <summary>The worker's connections to its host.</summary>
    internal static Protocol.Transport.WorkerStreams? Streams { get; set; }

    /// <summary>The calls connection (JSON-RPC), for diagnostics; user code that writes to it gets its worker killed.</summary>
    public static Stream? CallsConnection { get; internal set; }

    /// <summary>
    /// Runs after each exec or call, before its reply: channel readers acknowledge what the code read, and the channel
    /// frames the code sent are carried out by the host before the reply can reach it (they travel on another
    /// connection, so nothing else orders them).
    /// </summary>
    public static Func<Task>? OperationEnded { get; set; }

    /// <summary>Waits until this process has handled the given number of channel frames from the host (set once channels are used).</summary>
    public static Func<long, ValueTask>? ChannelFramesArrived { get; set; }

    /// <summary>Asks the host for a new interpreter id (see <c>IHostService</c>); <see langword="null"/> outside a worker.</summary>
    public static Func<CancellationToken, Task<long>>? ReserveInterpreterId { get; internal set; }

    /// <summary>The host's directory for large channel items, or <see langword="null"/> (items then travel whole).</summary>
    public static string? SpillDirectory { get; internal set; }

    /// <summary>The name prefix of the spill files this worker writes.</summary>
    public static string? SpillTag { get; internal set; }

    /// <summary>Whether this process is a ProcIsolates worker.</summary>
    public static bool IsWorker => HostProcessId is not null;
}
