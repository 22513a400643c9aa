using System.Diagnostics;

namespace ProcIsolates.Diagnostics;

/// <summary>Times and traces one exec or call, and reports its outcome to the metrics.</summary>
internal readonly struct OperationScope
{
    private readonly string operation;
    private readonly long started;
    private readonly Activity? activity;

    private OperationScope(string operation, Activity? activity)
    {
        this.operation = operation;
        this.activity = activity;
        started = Stopwatch.GetTimestamp();
    }

    /// <summary>Starts the scope of an operation (<c>exec</c> or <c>call</c>) in an interpreter.</summary>
    public static OperationScope Start(string operation, long interpreterId, string? target)
    {
        Activity? activity = ProcIsolatesTelemetry.Source.StartActivity("ProcIsolates." + operation, ActivityKind.Client);
        if (activity is not null)
        {
            activity.SetTag("procisolates.interpreter.id", interpreterId);
            activity.SetTag("procisolates.operation", operation);
            if (target is not null)
            {
                activity.SetTag("code.function", target);
            }
        }

        return new OperationScope(operation, activity);
    }

    /// <summary>Ends the scope with the outcome that <paramref name="exception"/> implies (none: success).</summary>
    public void End(Exception? exception = null)
    {
        string outcome = exception switch
        {
            null => "ok",
            OperationCanceledException => "canceled",
            TimeoutException => "timeout",
            InterpreterCrashedException => "crashed",
            InterpreterClosedException => "closed",
            _ => "error",
        };
        var tags = new TagList { { "procisolates.operation", operation }, { "procisolates.outcome", outcome } };
        ProcIsolatesTelemetry.Operations.Add(1, tags);
        ProcIsolatesTelemetry.Duration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
        if (activity is not null)
        {
            activity.SetTag("procisolates.outcome", outcome);
            if (exception is not null)
            {
                activity.SetStatus(ActivityStatusCode.Error, exception.Message);
                activity.SetTag("error.type", exception.GetType().FullName);
            }

            activity.Dispose();
        }
    }
}
