using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using StreamJsonRpc;
using StreamJsonRpc.Protocol;

namespace ProcIsolates.Protocol.Transport;

/// <summary>
/// StreamJsonRpc's <see cref="LengthHeaderMessageHandler"/> with a ceiling: a message whose length header announces
/// more than the limit is refused before any of it is buffered, so a peer cannot make this process hold gigabytes.
/// </summary>
public sealed class BoundedLengthHeaderMessageHandler : LengthHeaderMessageHandler
{
    private readonly int maxMessageSize;
    private readonly Action<long>? onTooLarge;

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

        return await base.ReadCoreAsync(cancellationToken).ConfigureAwait(false);
    }
}
