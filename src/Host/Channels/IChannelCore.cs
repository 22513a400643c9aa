using ProcIsolates.Protocol.Channels;

namespace ProcIsolates.Channels;

/// <summary>
/// A channel as serialized items: the broker itself in the host, a client of it in a worker. The typed ends
/// (<see cref="InterpreterChannelReader{T}"/>, <see cref="InterpreterChannelWriter{T}"/>) serialize over it.
/// </summary>
internal interface IChannelCore
{
    ChannelHandle Handle { get; }

    Task Completion { get; }

    int Count { get; }

    /// <summary>
    /// Whether an item read from this core has left the broker for good (the core is the broker), so that a spilled
    /// item's file can be deleted once it is read. A worker's read is final only when the host has its acknowledgement.
    /// </summary>
    bool ReadsAreFinal { get; }

    bool TryRead(out byte[] item);

    bool TryPeek(out byte[] item);

    ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken);

    ValueTask<byte[]> ReadAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Whether a <see cref="TryWrite"/> now could succeed: <see langword="false"/> when it certainly would not (the
    /// channel is closed for writing, or full with no reader waiting), so that the writer does not serialize an item,
    /// or write a large one to a file, only to have it refused. In a worker it asks the broker for write slots when it
    /// has none, as <see cref="TryWrite"/> would.
    /// </summary>
    bool MayAcceptWrite();

    bool TryWrite(byte[] item);

    ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken);

    ValueTask WriteAsync(byte[] item, CancellationToken cancellationToken);

    bool TryComplete(Exception? error);
}
