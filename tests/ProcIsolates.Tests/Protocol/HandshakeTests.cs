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
        Task<ConnectionRole> server = Handshake.ServerAsync(host, token, CancellationToken.None);
        await Handshake.ClientAsync(worker, token, ConnectionRole.ChannelData, CancellationToken.None);
        Assert.Equal(ConnectionRole.ChannelData, await server);
    }

    [Fact]
    public async Task The_greeting_is_magic_version_role_token_length_and_token()
    {
        (Stream worker, Stream host) = FullDuplexStream.CreatePair();
        byte[] token = Handshake.NewToken();
        Task client = Handshake.ClientAsync(worker, token, ConnectionRole.ChannelData, CancellationToken.None);
        byte[] greeting = new byte[8 + token.Length];
        await host.ReadExactlyAsync(greeting);
        Assert.Equal(new byte[] { 0x50, 0x49, 0x53, 0x4f, 0x03, 0x01, 0x00, 0x20 }, greeting[..8]);
        Assert.Equal(token, greeting[8..]);
        await host.WriteAsync(new[] { Handshake.Accepted });
        await host.FlushAsync();
        await client;
    }

    [Fact]
    public async Task A_wrong_token_is_refused_on_both_sides()
    {
        (Stream host, Stream worker) = FullDuplexStream.CreatePair();
        Task server = Handshake.ServerAsync(host, Handshake.NewToken(), CancellationToken.None);
        Task client = Handshake.ClientAsync(worker, Handshake.NewToken(), ConnectionRole.Calls, CancellationToken.None);
        var ex = await Assert.ThrowsAsync<HandshakeException>(() => server);
        Assert.Contains("wrong token", ex.Message, StringComparison.Ordinal);
        host.Dispose();
        await Assert.ThrowsAsync<HandshakeException>(() => client);
    }

    [Theory]
    [InlineData(new byte[] { 0x47, 0x45, 0x54, 0x20, 0x2f, 0x20, 0x48, 0x54 }, "magic")] // "GET / HT": not a worker at all
    [InlineData(new byte[] { 0x50, 0x49, 0x53, 0x4f, 0x09, 0x00, 0x00, 0x20 }, "version")] // PISO, protocol 9
    [InlineData(new byte[] { 0x50, 0x49, 0x53, 0x4f, 0x01, 0x00, 0x00, 0x20 }, "version")] // PISO, protocol 1 (before the role byte)
    [InlineData(new byte[] { 0x50, 0x49, 0x53, 0x4f, 0x02, 0x00, 0x00, 0x20 }, "version")] // PISO, protocol 2 (channel data through a multiplexer)
    [InlineData(new byte[] { 0x50, 0x49, 0x53, 0x4f, 0x03, 0x07, 0x00, 0x20 }, "role")]    // PISO, protocol 3, role 7
    [InlineData(new byte[] { 0x50, 0x49, 0x53, 0x4f, 0x03, 0x00, 0x00, 0x05 }, "length")]  // PISO, a 5-byte token
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
