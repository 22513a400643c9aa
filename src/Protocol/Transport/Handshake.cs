using System.Buffers.Binary;
using System.Security.Cryptography;

namespace ProcIsolates.Protocol.Transport;

/// <summary>
/// The first bytes on each new connection: the worker proves it is the process the host started by sending the
/// secret token the host gave it on its standard input (never on the command line), says what the connection is for,
/// and the host answers with one byte.
/// </summary>
/// <remarks>
/// Worker to host: the 4 ASCII bytes <c>PISO</c>, a protocol version byte, a <see cref="ConnectionRole"/> byte, a
/// 2-byte big-endian token length and the token. Host to worker: <see cref="Accepted"/>; on any mismatch the host
/// closes the connection without answering.
/// </remarks>
public static class Handshake
{
    /// <summary>The protocol version this build speaks.</summary>
    public const byte ProtocolVersion = 3;

    /// <summary>The host's answer when it accepted the worker.</summary>
    public const byte Accepted = 0x01;

    /// <summary>The token's length in bytes.</summary>
    public const int TokenLength = 32;

    /// <summary>Magic, version, role and token length.</summary>
    private const int HeaderLength = 8;

    private static ReadOnlySpan<byte> Magic => "PISO"u8;

    /// <summary>Makes a new random token.</summary>
    /// <returns>The token.</returns>
    public static byte[] NewToken() => RandomNumberGenerator.GetBytes(TokenLength);

    /// <summary>Sends the worker's greeting and waits for the host to accept it.</summary>
    /// <param name="stream">The connected pipe.</param>
    /// <param name="token">The token the host gave this worker.</param>
    /// <param name="role">What this connection carries.</param>
    /// <param name="cancellationToken">Cancels the handshake.</param>
    /// <returns>A task that completes when the host accepted the worker.</returns>
    /// <exception cref="HandshakeException">The host closed the pipe or answered something else.</exception>
    public static async Task ClientAsync(Stream stream, byte[] token, ConnectionRole role, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(token);
        byte[] hello = new byte[HeaderLength + token.Length];
        Magic.CopyTo(hello);
        hello[Magic.Length] = ProtocolVersion;
        hello[Magic.Length + 1] = (byte)role;
        BinaryPrimitives.WriteUInt16BigEndian(hello.AsSpan(Magic.Length + 2), (ushort)token.Length);
        token.CopyTo(hello.AsSpan(HeaderLength));
        await stream.WriteAsync(hello, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);

        byte[] answer = new byte[1];
        int read = await stream.ReadAsync(answer, cancellationToken).ConfigureAwait(false);
        if (read != 1 || answer[0] != Accepted)
        {
            throw new HandshakeException("The host refused this worker's handshake.");
        }
    }

    /// <summary>Reads a worker's greeting and accepts it if it carries <paramref name="expectedToken"/>.</summary>
    /// <param name="stream">The connected pipe.</param>
    /// <param name="expectedToken">The token given to the worker.</param>
    /// <param name="cancellationToken">Cancels the handshake.</param>
    /// <returns>What the accepted connection carries.</returns>
    /// <exception cref="HandshakeException">The peer sent something else; the caller must drop the connection.</exception>
    public static async Task<ConnectionRole> ServerAsync(Stream stream, byte[] expectedToken, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(expectedToken);
        byte[] header = new byte[HeaderLength];
        await ReadExactlyAsync(stream, header, cancellationToken).ConfigureAwait(false);
        if (!header.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw new HandshakeException("The peer is not a ProcIsolates worker (bad magic bytes).");
        }

        if (header[Magic.Length] != ProtocolVersion)
        {
            throw new HandshakeException($"The worker speaks protocol version {header[Magic.Length]}; this host speaks {ProtocolVersion}.");
        }

        var role = (ConnectionRole)header[Magic.Length + 1];
        if (!Enum.IsDefined(role))
        {
            throw new HandshakeException($"The worker asked for connection role {header[Magic.Length + 1]}, which this host does not know.");
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(Magic.Length + 2));
        if (length != expectedToken.Length)
        {
            throw new HandshakeException("The worker sent a token of the wrong length.");
        }

        byte[] token = new byte[length];
        await ReadExactlyAsync(stream, token, cancellationToken).ConfigureAwait(false);
        if (!CryptographicOperations.FixedTimeEquals(token, expectedToken))
        {
            throw new HandshakeException("The worker sent a wrong token.");
        }

        await stream.WriteAsync(new[] { Accepted }, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        return role;
    }

    private static async Task ReadExactlyAsync(Stream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        try
        {
            await stream.ReadExactlyAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (EndOfStreamException ex)
        {
            throw new HandshakeException("The peer closed the pipe during the handshake.", ex);
        }
    }
}
