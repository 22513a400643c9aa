using Microsoft.Extensions.Logging;

namespace ProcIsolates;

/// <summary>How to start and run an interpreter.</summary>
public sealed class InterpreterOptions
{
    /// <summary>How long the worker may take to start and connect; 30 seconds by default.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long <see cref="Interpreter.CloseAsync"/> waits for the worker to exit by itself before killing it; 2 seconds by default.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a cancelled exec or call may take to stop by itself (code sees the cancellation through its token).
    /// Past it the worker is killed and replaced by a fresh one with the same id; 2 seconds by default.
    /// </summary>
    public TimeSpan CancellationGracePeriod { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Where the interpreter logs (category <c>ProcIsolates.Interpreter</c>, every message with its interpreter id): start,
    /// crash, recycling, close, and each line its worker writes to standard error. Without one, the worker's standard
    /// error goes to the host's.
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    internal static InterpreterOptions Default { get; } = new();

    internal void Validate()
    {
        Check(StartTimeout, nameof(StartTimeout));
        Check(ShutdownTimeout, nameof(ShutdownTimeout));
        Check(CancellationGracePeriod, nameof(CancellationGracePeriod));

        static void Check(TimeSpan value, string name)
        {
            if (value < TimeSpan.Zero && value != Timeout.InfiniteTimeSpan)
            {
                throw new ArgumentOutOfRangeException(name, value, $"InterpreterOptions.{name} must be zero or more (or Timeout.InfiniteTimeSpan).");
            }
        }
    }
}
