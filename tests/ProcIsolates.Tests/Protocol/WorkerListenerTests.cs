using System.IO.Pipes;
using System.Reflection;
using ProcIsolates.Protocol.Transport;

namespace ProcIsolates.Tests.Protocol;

/// <summary>The host's side of a worker's connections (<c>Workers/WorkerListener</c>, internal: reached through reflection).</summary>
public sealed class WorkerListenerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_second_connection_for_a_role_already_taken_is_dropped_and_the_worker_still_connects()
    {
        PipeEndpoint endpoint = PipeEndpoint.Create(interpreterId: 0);
        byte[] token = Handshake.NewToken();
        using var stop = new CancellationTokenSource(Timeout);
        Task<NamedPipeServerStream[]> accepting = AcceptAsync(endpoint, token, stop.Token);
        try
        {
            await using NamedPipeClientStream calls = await ConnectAsync(endpoint, token, ConnectionRole.Calls, stop.Token);

            // Someone with the token (a confused or hostile worker) asks for the calls role again: its greeting is good,
            // so the host answers it, then finds the role taken and drops the connection.
            await using NamedPipeClientStream duplicate = await ConnectAsync(endpoint, token, ConnectionRole.Calls, stop.Token);
            Assert.True(await IsClosedByPeerAsync(duplicate, stop.Token), "the host should drop the second calls connection");

            await using NamedPipeClientStream channelData = await ConnectAsync(endpoint, token, ConnectionRole.ChannelData, stop.Token);
            NamedPipeServerStream[] accepted = await accepting.WaitAsync(stop.Token);
            try
            {
                // Each accepted connection is the first one of its role.
                Assert.Equal(42, await RoundTripAsync(calls, accepted[(int)ConnectionRole.Calls], 42, stop.Token));
                Assert.Equal(7, await RoundTripAsync(channelData, accepted[(int)ConnectionRole.ChannelData], 7, stop.Token));
            }
            finally
            {
                foreach (NamedPipeServerStream pipe in accepted)
                {
                    await pipe.DisposeAsync();
                }
            }
        }
        finally
        {
            // On a failure above, stop the listener and wait for it, so that it does not outlive the test.
            await stop.CancelAsync();
            await accepting.ContinueWith(static _ => { }, TaskScheduler.Default);
            endpoint.DeleteSocketFile();
        }
    }

    private static Task<NamedPipeServerStream[]> AcceptAsync(PipeEndpoint endpoint, byte[] token, CancellationToken cancellationToken)
    {
        MethodInfo accept = typeof(Interpreters).Assembly.GetType("ProcIsolates.Workers.WorkerListener", throwOnError: true)!
            .GetMethod("AcceptAsync", BindingFlags.Public | BindingFlags.Static)!;
        Func<NamedPipeServerStream, CancellationToken, Task> waitForConnection = (pipe, token) => pipe.WaitForConnectionAsync(token);
        return (Task<NamedPipeServerStream[]>)accept.Invoke(null, [endpoint, token, Environment.ProcessId, waitForConnection, cancellationToken])!; // This process plays the worker.
    }

    private static async Task<NamedPipeClientStream> ConnectAsync(PipeEndpoint endpoint, byte[] token, ConnectionRole role, CancellationToken cancellationToken)
    {
        var pipe = new NamedPipeClientStream(".", endpoint.PipeName, PipeDirection.InOut, PipeOptions.Asynchronous | PipeOptions.CurrentUserOnly);
        await pipe.ConnectAsync(cancellationToken);
        await Handshake.ClientAsync(pipe, token, role, cancellationToken);
        return pipe;
    }

    private static async Task<bool> IsClosedByPeerAsync(Stream stream, CancellationToken cancellationToken)
    {
        try
        {
            return await stream.ReadAsync(new byte[1], cancellationToken) == 0;
        }
        catch (IOException)
        {
            return true; // Reset rather than closed: dropped all the same.
        }
    }

    private static async Task<byte> RoundTripAsync(Stream client, Stream server, byte value, CancellationToken cancellationToken)
    {
        await client.WriteAsync(new[] { value }, cancellationToken);
        await client.FlushAsync(cancellationToken);
        byte[] received = new byte[1];
        await server.ReadExactlyAsync(received, cancellationToken);
        return received[0];
    }
}
