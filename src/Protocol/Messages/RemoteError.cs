using MessagePack;

namespace ProcIsolates.Protocol.Messages;

/// <summary>An exception raised in the worker, described so that the host can rethrow it.</summary>
[MessagePackObject]
[MessagePackFormatter(typeof(Formatters.RemoteErrorFormatter))]
public sealed class RemoteError
{
    /// <summary>What kind of failure this is.</summary>
    [Key(0)]
    public RemoteErrorKind Kind { get; init; }

    /// <summary>The full name of the exception's type, e.g. <c>System.InvalidOperationException</c>.</summary>
    [Key(1)]
    public required string TypeName { get; init; }

    /// <summary>The exception's message.</summary>
    [Key(2)]
    public required string Message { get; init; }

    /// <summary>The exception's stack trace in the worker, with inner exceptions (<see cref="Exception.ToString"/>).</summary>
    [Key(3)]
    public string? StackTrace { get; init; }

    /// <summary>For <see cref="RemoteErrorKind.NotShareable"/>, the full name of the type that could not travel.</summary>
    [Key(4)]
    public string? Detail { get; init; }

    /// <summary>Describes an exception for the wire.</summary>
    /// <param name="exception">The exception.</param>
    /// <param name="kind">Its kind.</param>
    /// <returns>The description.</returns>
    /// <param name="detail">The <see cref="Detail"/>.</param>
    public static RemoteError From(Exception exception, RemoteErrorKind kind = RemoteErrorKind.Exception, string? detail = null)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return new RemoteError
        {
            Kind = kind,
            TypeName = exception.GetType().FullName ?? exception.GetType().Name,
            Message = exception.Message,
            StackTrace = exception.ToString(),
            Detail = detail,
        };
    }
}
