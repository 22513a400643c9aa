using System.IO.Pipelines;
using Nerdbank.Streams;

namespace ProcIsolates.Protocol.Transport;

/// <summary>
/// The two streams one host–worker pipe carries, multiplexed with Nerdbank.Streams' <see cref="MultiplexingStream"/>
/// (protocol 3, with per-channel flow control): seeded channel 0 is JSON-RPC, seeded channel 1 the channel data.
/// Seeded channels need no offer/accept round trip, so the pipe is usable as soon as the handshake is done.
/// </summary>
public sealed class WorkerStreams : IAsyncDisposable
{
    /// <summary>The multiplexing protocol version: 3, set explicitly because the library's default is 1.</summary>
    public const int ProtocolMajorVersion = 3;

    /// <summary>How many bytes of channel data may be in flight towards one side before the writer waits.</summary>
    public const long ChannelDataWindow = 4 * 1024 * 1024;

    private WorkerStreams(MultiplexingStream multiplexer, IDuplexPipe rpc, IDuplexPipe channelData)
    {
        Multiplexer = multiplexer;
        Rpc = rpc;
        ChannelData = channelData;
    }

    /// <summary>The multiplexer over the pipe.</summary>
    public MultiplexingStream Multiplexer { get; }

    /// <summary>Seeded channel 0: JSON-RPC.</summary>
    public IDuplexPipe Rpc { get; }

    /// <summary>Seeded channel 1: channel data frames (see <see cref="Channels.ChannelFrame"/>).</summary>
    public IDuplexPipe ChannelData { get; }

    /// <summary>Starts multiplexing a connected, handshaken pipe. Both sides call this.</summary>
    /// <param name="pipe">The pipe.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The streams.</returns>
    public static async Task<WorkerStreams> CreateAsync(Stream pipe, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pipe);
        var options = new MultiplexingStream.Options
        {
            ProtocolMajorVersion = ProtocolMajorVersion,
            SeededChannels =
            {
                new MultiplexingStream.ChannelOptions(),
                new MultiplexingStream.ChannelOptions { ChannelReceivingWindowSize = ChannelDataWindow },
            },
        };
        MultiplexingStream multiplexer = await MultiplexingStream.CreateAsync(pipe, options, cancellationToken).ConfigureAwait(false);
        return new WorkerStreams(multiplexer, multiplexer.AcceptChannel(0), multiplexer.AcceptChannel(1));
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => Multiplexer.DisposeAsync();
}
