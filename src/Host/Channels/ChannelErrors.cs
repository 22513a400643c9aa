using System.Threading.Channels;
using ProcIsolates.Protocol.Channels;

namespace ProcIsolates.Channels;

/// <summary>How completion errors cross processes, and the exceptions readers and writers see, as .NET's channels throw them.</summary>
internal static class ChannelErrors
{
    /// <summary>The exception a read or write on a closed channel throws: .NET's <see cref="ChannelClosedException"/>, around the completion error if there is one.</summary>
    public static Exception Closed(Exception? error) => error switch
    {
        null => new ChannelClosedException(),
        OperationCanceledException canceled => canceled,
        _ => new ChannelClosedException(error),
    };

    /// <summary>The completion error carried by a frame, or <see langword="null"/>.</summary>
    public static Exception? FromFrame(ChannelFrame frame) => FromRemote(frame.ErrorType, frame.ErrorMessage);

    /// <summary>
    /// The error a completion from another process stands for: a cancellation is a cancellation here too (as .NET's
    /// channels surface <c>Complete(new OperationCanceledException())</c>); any other error arrives as a
    /// <see cref="RemoteChannelException"/> with its type name and message.
    /// </summary>
    public static Exception? FromRemote(string? typeName, string? message) => typeName switch
    {
        null => null,
        "System.OperationCanceledException" or "System.Threading.Tasks.TaskCanceledException" => new OperationCanceledException(message),
        _ => new RemoteChannelException(typeName, message),
    };

    /// <summary>The type name that stands for <paramref name="error"/> on the wire.</summary>
    public static string? TypeName(Exception? error) => error switch
    {
        null => null,
        RemoteChannelException remote => remote.RemoteTypeName,
        _ => error.GetType().FullName ?? error.GetType().Name,
    };

    /// <summary>The message that stands for <paramref name="error"/> on the wire.</summary>
    public static string? Message(Exception? error) => error switch
    {
        null => null,
        RemoteChannelException remote => remote.RemoteMessage,
        _ => error.Message,
    };
}
