using Microsoft.Extensions.Logging;

namespace ProcIsolates.Diagnostics;

/// <summary>What ProcIsolates logs about interpreters; every message carries the interpreter id.</summary>
internal static partial class InterpreterLog
{
    /// <summary>The category of every ProcIsolates log message.</summary>
    public const string Category = "ProcIsolates.Interpreter";

    [LoggerMessage(1, LogLevel.Information, "Interpreter {InterpreterId} started in process {ProcessId}")]
    public static partial void Started(ILogger logger, long interpreterId, int processId);

    [LoggerMessage(2, LogLevel.Warning, "Interpreter {InterpreterId} (process {ProcessId}) stderr: {Line}")]
    public static partial void Stderr(ILogger logger, long interpreterId, int processId, string line);

    [LoggerMessage(3, LogLevel.Error, "Interpreter {InterpreterId} crashed")]
    public static partial void Crashed(ILogger logger, long interpreterId, Exception exception);

    [LoggerMessage(4, LogLevel.Warning, "Interpreter {InterpreterId}: a cancelled operation did not stop in time; process {ProcessId} was killed and is being replaced")]
    public static partial void Recycling(ILogger logger, long interpreterId, int processId);

    [LoggerMessage(5, LogLevel.Information, "Interpreter {InterpreterId} closed")]
    public static partial void Closed(ILogger logger, long interpreterId);
}
