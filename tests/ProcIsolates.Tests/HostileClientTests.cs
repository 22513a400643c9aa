using System.Net.Sockets;

namespace ProcIsolates.Tests;

[Collection(nameof(Serial))]
public sealed class HostileClientTests
{
    [Fact]
    public async Task Foreign_clients_that_connect_first_are_dropped_and_the_worker_still_connects()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // Watches the socket directory, which is Unix-specific.
        }

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var seen = new TaskCompletionSource<(string Path, UnixFileMode Mode, bool Dropped)>();
        string[] before = Processes.SocketFilesOf(Environment.ProcessId);

        // Two foreign clients: wait for the host's new socket, connect long before the cold worker can, and send garbage.
        // The host has two listeners (one per connection of its worker): each must drop its intruder and listen again.
        Task intruder = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                string? socket = Processes.SocketFilesOf(Environment.ProcessId).Except(before).FirstOrDefault();
                if (socket is null)
                {
                    await Task.Delay(1);
                    continue;
                }

                UnixFileMode mode = OperatingSystem.IsWindows() ? default : File.GetUnixFileMode(socket);
                bool[] dropped = await Task.WhenAll(IntrudeAsync(socket, stop.Token), IntrudeAsync(socket, stop.Token));
                seen.TrySetResult((socket, mode, dropped.All(d => d)));
                return;
            }
        });

        // A shaped process never comes from a spare, so a socket is made for it now.
        await using Interpreter interpreter = await Interpreters.CreateAsync(new InterpreterOptions { Environment = new Dictionary<string, string?> { ["PROCISOLATES_TEST"] = "1" } }, stop.Token);
        (string path, UnixFileMode socketMode, bool dropped) = await seen.Task.WaitAsync(stop.Token);
        await intruder;

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, socketMode);
        Assert.True(dropped, "the host should close both foreign connections without answering");
        Assert.Equal(7, await interpreter.CallAsync(() => TestMethods.Add(3, 4)));
        Assert.False(File.Exists(path));
    }

    /// <summary>Connects, sends an HTTP request, and tells whether the host closed the connection without answering.</summary>
    private static async Task<bool> IntrudeAsync(string socket, CancellationToken cancellationToken)
    {
        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await client.ConnectAsync(new UnixDomainSocketEndPoint(socket), cancellationToken);
        await client.SendAsync("GET / HTTP/1.1\r\n\r\n"u8.ToArray(), SocketFlags.None, cancellationToken);
        try
        {
            // Closed with our bytes unread, the connection may be reset rather than ended: both mean dropped.
            return await client.ReceiveAsync(new byte[16], SocketFlags.None, cancellationToken) == 0;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
    }
}
