namespace ProcIsolates;

/// <summary>
/// Applies <see cref="InterpreterOptions.CallTimeout"/> to one exec or call: a token that is cancelled when the
/// caller's token is or when the time is up, and the translation of the latter into <see cref="TimeoutException"/>.
/// </summary>
internal sealed class CallDeadline : IDisposable
{
    private readonly CancellationTokenSource? source;
    private readonly CancellationToken callerToken;
    private readonly TimeSpan? timeout;

    private CallDeadline(TimeSpan? timeout, CancellationToken callerToken)
    {
        this.timeout = timeout;
        this.callerToken = callerToken;
        if (timeout is { } limit && limit != Timeout.InfiniteTimeSpan)
        {
            source = CancellationTokenSource.CreateLinkedTokenSource(callerToken);
        }
    }

    /// <summary>The token to run the operation with.</summary>
    public CancellationToken Token => source?.Token ?? callerToken;

    /// <summary>The caller's own token, for waits that the time limit does not cover (a replacement worker starting).</summary>
    public CancellationToken CallerToken => callerToken;

    /// <summary>Starts the clock: called when the operation is sent, so that waiting for a worker does not count.</summary>
    public void Arm()
    {
        if (source is not null && timeout is { } limit)
        {
            source.CancelAfter(limit);
        }
    }

    /// <summary>
    /// Completes when the time is up (never without a time limit), so that the caller gets its
    /// <see cref="TimeoutException"/> at <see cref="InterpreterOptions.CallTimeout"/>, not when code that ignores its
    /// token is killed after the grace period.
    /// </summary>
    public Task Expired => Task.Delay(Timeout.Infinite, Token);

    /// <summary>Whether the time is up (and the caller did not cancel).</summary>
    public bool HasExpired => source is { IsCancellationRequested: true } && !callerToken.IsCancellationRequested;

    /// <summary>Whether there is a time limit at all.</summary>
    public bool IsLimited => source is not null;

    public static CallDeadline Start(TimeSpan? timeout, CancellationToken callerToken) => new(timeout, callerToken);

    /// <summary>Whether <paramref name="exception"/> means the time ran out (rather than the caller cancelling).</summary>
    public bool TimedOut(Exception exception) =>
        exception is OperationCanceledException && source is { IsCancellationRequested: true } && !callerToken.IsCancellationRequested;

    /// <summary>The error for an operation that ran out of time.</summary>
    public TimeoutException ToTimeout(long interpreterId, Exception cause) =>
        new($"The operation in interpreter {interpreterId} did not finish within {timeout?.TotalSeconds:0.###} s (InterpreterOptions.CallTimeout).", cause);

    public void Dispose() => source?.Dispose();
}
