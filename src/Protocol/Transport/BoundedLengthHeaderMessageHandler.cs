using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using StreamJsonRpc;
using StreamJsonRpc.Protocol;

namespace ProcIsolates.Protocol.Transport;

/// <summary>
/// StreamJsonRpc's <see cref="LengthHeaderMessageHandler"/> with ceilings: a message whose length header announces
/// more than the limit is refused before any of it is buffered, so a peer cannot make this process hold gigabytes; and
/// a peer may have at most <see cref="MaxUnansweredRequests"/> requests waiting for their replies, so that one which
/// sends requests and never reads the replies cannot make this process queue them without end.
/// </summary>
public sealed class BoundedLengthHeaderMessageHandler : LengthHeaderMessageHandler
{
    private readonly int maxMessageSize;
    private readonly Action<long>? onTooLarge;
    private int unanswered;

    /// <summary>Initializes a new instance of the <see cref="BoundedLengthHeaderMessageHandler"/> class.</summary>
    /// <param name="pipe">The pipe to read and write.</param>
    /// <param name="formatter">The message formatter.</param>
    /// <param name="maxMessageSize">The largest message accepted, in bytes.</param>
    /// <param name="onTooLarge">Told the announced size of a message that was refused; the connection ends after it.</param>
    public BoundedLengthHeaderMessageHandler(IDuplexPipe pipe, IJsonRpcMessageFormatter formatter, int maxMessageSize, Action<long>? onTooLarge)
        : base(pipe, formatter)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxMessageSize);
        this.maxMessageSize = maxMessageSize;
        this.onTooLarge = onTooLarge;
    }

    /// <summary>
    /// The most requests from the peer that may wait for their replies (being served, or replies not yet written
    /// because the peer does not read); <see cref="int.MaxValue"/> (the default) for no limit. Past it the connection
    /// ends, after <see cref="OnTooManyUnanswered"/>.
    /// </summary>
    public int MaxUnansweredRequests { get; init; } = int.MaxValue;

    /// <summary>Told the number of unanswered requests when the peer passes <see cref="MaxUnansweredRequests"/>.</summary>
    public Action<int>? OnTooManyUnanswered { get; init; }

    /// <summary>Requests from the peer whose replies have not been written yet.</summary>
    public int UnansweredRequests => Volatile.Read(ref unanswered);

    /// <inheritdoc/>
    protected override void Write(JsonRpcMessage content, CancellationToken cancellationToken)
    {
        base.Write(content, cancellationToken);
        if (content is JsonRpcResult or JsonRpcError)
        {
            Interlocked.Decrement(ref unanswered); // Every reply this side writes answers one of the peer's requests.
        }
    }

    /// <inheritdoc/>
    protected override async ValueTask<JsonRpcMessage?> ReadCoreAsync(CancellationToken cancellationToken)
    {
        // Look at the header without taking it; the base class then reads the message as usual.
        ReadResult peek = await ReadAtLeastAsync(4, allowEmpty: true, cancellationToken).ConfigureAwait(false);
        long announced = -1;
        if (peek.Buffer.Length >= 4)
        {
            Span<byte> header = stackalloc byte[4];
            peek.Buffer.Slice(0, 4).CopyTo(header);
            announced = BinaryPrimitives.ReadUInt32BigEndian(header);
        }

        Reader!.AdvanceTo(peek.Buffer.Start);
        if (announced > maxMessageSize)
        {
            onTooLarge?.Invoke(announced);
            throw new InvalidDataException($"The peer sent a message of {announced} bytes; the limit is {maxMessageSize}.");
        }

        JsonRpcMessage? message = await base.ReadCoreAsync(cancellationToken).ConfigureAwait(false);
        if (message is JsonRpcRequest { RequestId.IsEmpty: false } && Interlocked.Increment(ref unanswered) is var waiting && waiting > MaxUnansweredRequests)
        {
            OnTooManyUnanswered?.Invoke(waiting);
            throw new InvalidDataException($"The peer has {waiting} requests waiting for their replies; the limit is {MaxUnansweredRequests}.");
        }

        return message;
    }
}
