namespace ProcIsolates.Protocol.Messages;

/// <summary>Kinds of <see cref="RemoteError"/>.</summary>
public enum RemoteErrorKind
{
    /// <summary>The user's code threw.</summary>
    Exception = 0,

    /// <summary>The code was cancelled through its token.</summary>
    Canceled = 1,

    /// <summary>A value could not be serialized or deserialized (an argument, a variable or a result).</summary>
    NotShareable = 2,

    /// <summary>The request named a method, type or assembly the worker cannot load.</summary>
    BadRequest = 3,

    /// <summary>An exec named code this worker has not been sent; the host sends it again with the assembly.</summary>
    UnknownCode = 4,
}
