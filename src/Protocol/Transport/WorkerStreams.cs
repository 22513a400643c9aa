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
/// channel data can flow as soon as either side starts its multiplexer: the host at once (its broker session reads
/// from the start), a worker when its code first uses a channel.
/// </remarks>
public sealed class WorkerStreams : IAsyncDisposable
{
    /// <summary>The multiplexing protocol version: 3, set explicitly because the library's default is 1.</summary>
    public const int ProtocolMajorVersion = 3;

    /// <summary>How many bytes of channel data may be in flight towards one side before the writer waits.</summary>
    public const long ChannelDataWindow = 4 * 1024 * 1024;

    private readonly Stream calls;
    private readonly Stream channelData;
    private readonly Lazy<MultiplexingStream> multiplexer;
    private readonly Lazy<IDuplexPipe> channelDataPipe;

    private WorkerStreams(Stream calls, Stream channelData)
    {
        this.calls = calls;
        this.channelData = channelData;

        // Protocol 3 has no handshake, so each side may start its multiplexer when it likes: bytes the other side sent
        // first wait in the socket. The worker starts its own on first use (its set-up is ~40 ms of cold JIT at start).
        multiplexer = new(() => MultiplexingStream.Create(channelData, new MultiplexingStream.Options
        {
            ProtocolMajorVersion = ProtocolMajorVersion,
            SeededChannels = { new MultiplexingStream.ChannelOptions { ChannelReceivingWindowSize = ChannelDataWindow } },
        }));
        channelDataPipe = new(() => multiplexer.Value.AcceptChannel(0));

        // System.IO.Pipelines' stream adapters read and write inline, with no pump of their own in between. Reads of
        // 64 KiB: a large call argument or result then takes a few reads, not hundreds.
        Rpc = new DuplexPipe(
            PipeReader.Create(calls, new StreamPipeReaderOptions(bufferSize: 65536, minimumReadSize: 16384, leaveOpen: true)),
            PipeWriter.Create(calls, new StreamPipeWriterOptions(leaveOpen: true)));
    }

    /// <summary>JSON-RPC, on the calls connection.</summary>
    public IDuplexPipe Rpc { get; }

    /// <summary>
    /// Channel data frames (see <see cref="Channels.ChannelFrame"/>), on seeded channel 0 of a multiplexer over the
    /// channel-data connection, which the first use starts.
    /// </summary>
    public IDuplexPipe ChannelData => channelDataPipe.Value;

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
        if (multiplexer.IsValueCreated)
        {
            await multiplexer.Value.DisposeAsync().ConfigureAwait(false);
        }

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
