using System.Net.Sockets;

namespace ProcIsolates.Tests;

[Collection(nameof(Serial))]
public sealed class HostileClientTests
{
    [Fact]
    public async Task A_foreign_client_that_connects_first_is_dropped_and_the_worker_still_connects()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // Watches the socket directory, which is Unix-specific.
        }

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var seen = new TaskCompletionSource<(string Path, UnixFileMode Mode, bool Dropped)>();
        string[] before = Processes.SocketFilesOf(Environment.ProcessId);

        // The foreign client: waits for the host's new socket, connects before the worker does, and sends garbage.
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
                using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await client.ConnectAsync(new UnixDomainSocketEndPoint(socket), stop.Token);
                await client.SendAsync("GET / HTTP/1.1\r\n\r\n"u8.ToArray(), SocketFlags.None, stop.Token);
                bool dropped;
                try
                {
                    // Closed with our bytes unread, the connection may be reset rather than ended: both mean dropped.
                    dropped = await client.ReceiveAsync(new byte[16], SocketFlags.None, stop.Token) == 0;
                }
                catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
                {
                    dropped = true;
                }

                seen.TrySetResult((socket, mode, dropped));
                return;
            }
        });

        // A shaped process never comes from a spare, so a socket is made for it now.
        await using Interpreter interpreter = await Interpreters.CreateAsync(new InterpreterOptions { Environment = new Dictionary<string, string?> { ["PROCISOLATES_TEST"] = "1" } }, stop.Token);
        (string path, UnixFileMode socketMode, bool dropped) = await seen.Task.WaitAsync(stop.Token);
        await intruder;

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, socketMode);
        Assert.True(dropped, "the host should close the foreign connection without answering");
        Assert.Equal(7, await interpreter.CallAsync(() => TestMethods.Add(3, 4)));
        Assert.False(File.Exists(path));
    }
}
