using System.IO.Pipelines;
using MessagePack;
using StreamJsonRpc;

namespace ProcIsolates.Protocol.Transport;

/// <summary>
/// Builds the JSON-RPC connection used on every host–worker pipe: MessagePack-encoded JSON-RPC messages, each
/// preceded by its length as a 4-byte big-endian integer. Host, worker and the benchmark's baseline all use this one
/// definition, so they speak the same wire format.
/// </summary>
public static class RpcChannel
{
    /// <summary>The MessagePack options for protocol messages: hardened against hostile input.</summary>
    public static MessagePackSerializerOptions MessageOptions { get; } =
        MessagePackSerializerOptions.Standard.WithSecurity(MessagePackSecurity.UntrustedData);

    /// <summary>Creates a JSON-RPC connection over a connected pipe; call <see cref="JsonRpc.StartListening"/> after adding targets.</summary>
    /// <param name="stream">The connected, already handshaken pipe.</param>
    /// <returns>The connection, not yet listening.</returns>
    public static JsonRpc Create(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var formatter = new MessagePackFormatter();
        formatter.SetMessagePackSerializerOptions(MessageOptions);

        // System.IO.Pipelines' own stream adapters read and write inline; the Stream overload adds a pumping pipe
        // and a thread hop each way (about 15% of a round trip in bench measurements).
        var handler = new LengthHeaderMessageHandler(PipeWriter.Create(stream), PipeReader.Create(stream), formatter);
        return new JsonRpc(handler);
    }

    /// <summary>Creates a JSON-RPC connection over a worker's calls connection (<see cref="WorkerStreams.Rpc"/>).</summary>
    /// <param name="pipe">The channel.</param>
    /// <param name="maxIncomingMessageSize">The largest message accepted from the peer, in bytes.</param>
    /// <param name="onTooLarge">Told the size of a larger message, which ends the connection.</param>
    /// <param name="maxUnansweredRequests">The most requests from the peer that may wait for their replies.</param>
    /// <param name="onTooManyUnanswered">Told the number when the peer passes <paramref name="maxUnansweredRequests"/>, which ends the connection.</param>
    /// <returns>The connection, not yet listening.</returns>
    public static JsonRpc Create(IDuplexPipe pipe, int maxIncomingMessageSize = int.MaxValue, Action<long>? onTooLarge = null, int maxUnansweredRequests = int.MaxValue, Action<int>? onTooManyUnanswered = null)
    {
        ArgumentNullException.ThrowIfNull(pipe);
        var formatter = new MessagePackFormatter();
        formatter.SetMessagePackSerializerOptions(MessageOptions);
        return new JsonRpc(new BoundedLengthHeaderMessageHandler(pipe, formatter, maxIncomingMessageSize, onTooLarge)
        {
            MaxUnansweredRequests = maxUnansweredRequests,
            OnTooManyUnanswered = onTooManyUnanswered,
        });
    }
}
