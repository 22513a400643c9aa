using Microsoft.Extensions.Logging;

namespace ProcIsolates.Diagnostics;

/// <summary>
/// Wraps the user's logger so that a failing logging provider never fails an interpreter's work or its crash
/// handling: logging is a side channel, and some of it runs on background threads where an exception would end the host.
/// </summary>
internal sealed class SafeLogger(ILogger inner) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull
    {
        try
        {
            return inner.BeginScope(state);
        }
#pragma warning disable CA1031 // See the class summary.
        catch (Exception)
        {
            return null;
        }
    }

    public bool IsEnabled(LogLevel logLevel)
    {
        try
        {
            return inner.IsEnabled(logLevel);
        }
        catch (Exception)
        {
            return false;
        }
    }

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        try
        {
            inner.Log(logLevel, eventId, state, exception, formatter);
        }
        catch (Exception)
        {
        }
#pragma warning restore CA1031
    }
}
