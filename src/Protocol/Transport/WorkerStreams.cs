using System.IO.Pipelines;
using Nerdbank.Streams;

namespace ProcIsolates.Protocol.Transport;

/// <summary>
/// What a worker's two connections to its host carry (see <see cref="ConnectionRole"/>): JSON-RPC on the calls
/// connection, and the channel data frames (<see cref="Channels.ChannelFrame"/>) on the other, each straight on its
/// socket through System.IO.Pipelines' stream adapters.
/// </summary>
/// <remarks>
/// Channel data used to run on a seeded channel of a Nerdbank.Streams <c>MultiplexingStream</c>; with a single
/// channel the multiplexer only added a buffer between the frames and the socket, and that buffer hid the one fact
/// an awaited channel write needs: that its bytes are in the kernel (a flush of this pipe completes when the socket
/// took them, and the host reads them even if the worker dies right after). Flow control is the socket's and the
/// channel protocol's own (write slots, the unsent-bytes budget).
/// </remarks>
public sealed class WorkerStreams : IAsyncDisposable
{
    /// <summary>The size of each read buffer: a large call argument or channel item then takes a few reads, not hundreds.</summary>
    private const int ReadBufferSize = 64 * 1024;

    private readonly Stream calls;
    private readonly Stream channelData;

    private WorkerStreams(Stream calls, Stream channelData)
    {
        this.calls = calls;
        this.channelData = channelData;

        // Inline reads and writes, with no pump of their own in between.
        Rpc = Adapt(calls);
        ChannelData = Adapt(channelData);
    }

    /// <summary>JSON-RPC, on the calls connection.</summary>
    public IDuplexPipe Rpc { get; }

    /// <summary>Channel data frames (see <see cref="Channels.ChannelFrame"/>), on the channel-data connection.</summary>
    public IDuplexPipe ChannelData { get; }

    /// <summary>Starts using a worker's two connected, handshaken connections. Both sides call this.</summary>
    /// <param name="calls">The <see cref="ConnectionRole.Calls"/> connection.</param>
    /// <param name="channelData">The <see cref="ConnectionRole.ChannelData"/> connection.</param>
    /// <returns>The streams; disposing them closes both connections.</returns>
    public static WorkerStreams Create(Stream calls, Stream channelData)
    {
        ArgumentNullException.ThrowIfNull(calls);
        ArgumentNullException.ThrowIfNull(channelData);
        return new WorkerStreams(calls, channelData);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        // The connection first, so that a read still pending on it ends before the pipe adapters give back their buffers.
        await calls.DisposeAsync().ConfigureAwait(false);
        await CompleteQuietlyAsync(Rpc).ConfigureAwait(false);
        await channelData.DisposeAsync().ConfigureAwait(false);
        await CompleteQuietlyAsync(ChannelData).ConfigureAwait(false);
    }

    private static DuplexPipe Adapt(Stream stream) => new(
        PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: ReadBufferSize, minimumReadSize: ReadBufferSize / 4, leaveOpen: true)),
        PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true)));

    private static async Task CompleteQuietlyAsync(IDuplexPipe pipe)
    {
        try
        {
            await pipe.Input.CompleteAsync().ConfigureAwait(false);
            await pipe.Output.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // Unsent bytes for a connection that is gone: nothing to keep.
        }
    }
}
