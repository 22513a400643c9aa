using System.IO.Pipelines;
using Nerdbank.Streams;

namespace ProcIsolates.Protocol.Transport;

/// <summary>
/// What a worker's two connections to its host carry (see <see cref="ConnectionRole"/>): JSON-RPC straight on the
/// calls connection, and channel data on seeded channel 0 of a Nerdbank.Streams <see cref="MultiplexingStream"/>
/// (protocol 3, with per-channel flow control) over the other.
/// </summary>
/// <remarks>
/// Calls stay off the multiplexer because it costs each message two more thread hops and a flow-control frame back:
/// about 70 µs per round trip, measured (docs/benchmarks.md). A seeded channel needs no offer/accept round trip, so
/// channel data can flow as soon as the handshake is done.
/// </remarks>
public sealed class WorkerStreams : IAsyncDisposable
{
    /// <summary>The multiplexing protocol version: 3, set explicitly because the library's default is 1.</summary>
    public const int ProtocolMajorVersion = 3;

    /// <summary>How many bytes of channel data may be in flight towards one side before the writer waits.</summary>
    public const long ChannelDataWindow = 4 * 1024 * 1024;

    private readonly Stream calls;
    private readonly Stream channelData;

    private WorkerStreams(Stream calls, Stream channelData, MultiplexingStream multiplexer)
    {
        this.calls = calls;
        this.channelData = channelData;
        Multiplexer = multiplexer;

        // System.IO.Pipelines' stream adapters read and write inline, with no pump of their own in between.
        Rpc = new DuplexPipe(PipeReader.Create(calls, new StreamPipeReaderOptions(leaveOpen: true)), PipeWriter.Create(calls, new StreamPipeWriterOptions(leaveOpen: true)));
        ChannelData = multiplexer.AcceptChannel(0);
    }

    /// <summary>The multiplexer over the channel data connection.</summary>
    public MultiplexingStream Multiplexer { get; }

    /// <summary>JSON-RPC, on the calls connection.</summary>
    public IDuplexPipe Rpc { get; }

    /// <summary>Channel data frames (see <see cref="Channels.ChannelFrame"/>), on seeded channel 0 of <see cref="Multiplexer"/>.</summary>
    public IDuplexPipe ChannelData { get; }

    /// <summary>Starts using a worker's two connected, handshaken connections. Both sides call this.</summary>
    /// <param name="calls">The <see cref="ConnectionRole.Calls"/> connection.</param>
    /// <param name="channelData">The <see cref="ConnectionRole.ChannelData"/> connection.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The streams; disposing them closes both connections.</returns>
    public static async Task<WorkerStreams> CreateAsync(Stream calls, Stream channelData, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(calls);
        ArgumentNullException.ThrowIfNull(channelData);
        var options = new MultiplexingStream.Options
        {
            ProtocolMajorVersion = ProtocolMajorVersion,
            SeededChannels = { new MultiplexingStream.ChannelOptions { ChannelReceivingWindowSize = ChannelDataWindow } },
        };
        MultiplexingStream multiplexer = await MultiplexingStream.CreateAsync(channelData, options, cancellationToken).ConfigureAwait(false);
        return new WorkerStreams(calls, channelData, multiplexer);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        // The connection first, so that a read still pending on it ends before the pipe adapters give back their buffers.
        await calls.DisposeAsync().ConfigureAwait(false);
        await CompleteQuietlyAsync(Rpc).ConfigureAwait(false);
        await Multiplexer.DisposeAsync().ConfigureAwait(false);
        await channelData.DisposeAsync().ConfigureAwait(false);
    }

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
