namespace ProcIsolates.Comparison;

/// <summary>The figures of one isolation level, measured in one run with the others.</summary>
/// <param name="Isolation">The level.</param>
/// <param name="CreateMilliseconds">Median time from <see cref="Interpreters.CreateAsync"/> to the first call answered (worker processes: with a spare ready).</param>
/// <param name="EmptyCallMicroseconds">Median round trip of an empty <c>CallAsync</c>.</param>
/// <param name="PoolCallMicroseconds">Median round trip of an empty call through a warm <see cref="InterpreterPool"/>.</param>
/// <param name="HostToInterpreterItemsPerSecond">64-byte channel items the host writes and an interpreter reads, per second.</param>
/// <param name="InterpreterToInterpreterItemsPerSecond">64-byte channel items one interpreter writes and another reads, per second.</param>
/// <param name="SpeedUp">N CPU-bound jobs on a pool of N interpreters (N = cores): N × time(1 job) / time(N jobs).</param>
/// <param name="IdleMegabytes">Memory per idle interpreter: the worker's resident set (RSS), or the host's growth for in-process levels.</param>
/// <param name="IdlePrivateMegabytes">
/// The part of <paramref name="IdleMegabytes"/> no other process shares (for a worker, its unique set from
/// <c>/proc/PID/smaps_rollup</c>; the rest of its RSS is the runtime's files, mapped once for every .NET process).
/// </param>
public sealed record ComparisonRow(
    Isolation Isolation,
    double CreateMilliseconds,
    double EmptyCallMicroseconds,
    double PoolCallMicroseconds,
    double HostToInterpreterItemsPerSecond,
    double InterpreterToInterpreterItemsPerSecond,
    double SpeedUp,
    double IdleMegabytes,
    double IdlePrivateMegabytes)
{
    /// <summary>What a warm pool adds to a call: the pool's call minus the direct call.</summary>
    public double PoolHandOutMicroseconds => Math.Max(0, PoolCallMicroseconds - EmptyCallMicroseconds);
}
