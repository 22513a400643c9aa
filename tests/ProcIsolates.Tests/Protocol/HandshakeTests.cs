using Nerdbank.Streams;
using ProcIsolates.Protocol.Transport;

namespace ProcIsolates.Tests.Protocol;

public sealed class HandshakeTests
{
    [Fact]
    public async Task The_right_token_is_accepted()
    {
        (Stream host, Stream worker) = FullDuplexStream.CreatePair();
        byte[] token = Handshake.NewToken();
        await Task.WhenAll(Handshake.ServerAsync(host, token, CancellationToken.None), Handshake.ClientAsync(worker, token, CancellationToken.None));
    }

    [Fact]
    public async Task A_wrong_token_is_refused_on_both_sides()
    {
        (Stream host, Stream worker) = FullDuplexStream.CreatePair();
        Task server = Handshake.ServerAsync(host, Handshake.NewToken(), CancellationToken.None);
        Task client = Handshake.ClientAsync(worker, Handshake.NewToken(), CancellationToken.None);
        var ex = await Assert.ThrowsAsync<HandshakeException>(() => server);
        Assert.Contains("wrong token", ex.Message, StringComparison.Ordinal);
        host.Dispose();
        await Assert.ThrowsAsync<HandshakeException>(() => client);
    }

    [Theory]
    [InlineData(new byte[] { 0x47, 0x45, 0x54, 0x20, 0x2f, 0x20, 0x48 }, "magic")]   // "GET / H": not a worker at all
    [InlineData(new byte[] { 0x50, 0x49, 0x53, 0x4f, 0x09, 0x00, 0x20 }, "version")] // PISO, protocol 9
    [InlineData(new byte[] { 0x50, 0x49, 0x53, 0x4f, 0x01, 0x00, 0x05 }, "length")]  // PISO, a 5-byte token
    [InlineData(new byte[] { 0x50, 0x49 }, "closed")]                                // a truncated greeting
    public async Task Garbage_and_truncated_greetings_are_refused_with_a_clear_error(byte[] greeting, string expected)
    {
        (Stream host, Stream peer) = FullDuplexStream.CreatePair();
        await peer.WriteAsync(greeting);
        await peer.FlushAsync();
        peer.Dispose();
        var ex = await Assert.ThrowsAsync<HandshakeException>(() => Handshake.ServerAsync(host, Handshake.NewToken(), CancellationToken.None));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }
}
