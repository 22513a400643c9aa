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

        // Other starts (a spare, a pool's background start) end first, so that the next socket is this test's.
        await LifecycleTests.WaitUntilAsync(() => Processes.SocketFilesOf(Environment.ProcessId).Length == 0);
        string[] before = Processes.SocketFilesOf(Environment.ProcessId);

        // Two foreign clients: wait for the host's new socket, connect long before the cold worker can, and send garbage.
        // The host accepts its worker's two connections one at a time: it must drop each intruder and listen again.
        Task intruder = Task.Run(async () =>
        {
            string socket = await NewSocketAsync(before, stop.Token);
            UnixFileMode mode = OperatingSystem.IsWindows() ? default : File.GetUnixFileMode(socket);
            try
            {
                bool[] dropped = await Task.WhenAll(IntrudeAsync(socket, stop.Token), IntrudeAsync(socket, stop.Token));
                seen.TrySetResult((socket, mode, dropped.All(d => d)));
            }
            catch (Exception ex)
            {
                seen.TrySetException(ex);
                throw;
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

    [Fact]
    public async Task A_foreign_client_that_resets_its_connection_mid_greeting_is_dropped_and_the_worker_still_connects()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // Watches the socket directory, which is Unix-specific.
        }

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        string[] before = Processes.SocketFilesOf(Environment.ProcessId);

        // Half a greeting, then a reset (linger 0). Where the system names the peer, the host drops this one on sight
        // (it is not the worker's process), so the send may already fail; elsewhere the host's read fails with an I/O error.
        Task intruder = Task.Run(async () =>
        {
            string socket = await NewSocketAsync(before, stop.Token);
            using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await client.ConnectAsync(new UnixDomainSocketEndPoint(socket), stop.Token);
                await client.SendAsync("PISO"u8.ToArray(), SocketFlags.None, stop.Token);
                await Task.Delay(50, stop.Token);
                client.LingerState = new LingerOption(true, 0);
            }
            catch (SocketException)
            {
                // Dropped already.
            }
        });

        await using Interpreter interpreter = await Interpreters.CreateAsync(new InterpreterOptions { Environment = new Dictionary<string, string?> { ["PROCISOLATES_TEST"] = "2" } }, stop.Token);
        await intruder;
        Assert.Equal(7, await interpreter.CallAsync(() => TestMethods.Add(3, 4)));
    }

    /// <summary>
    /// Waits for the socket file the host creates for its next worker: told by the file system as it appears (a
    /// socket may live only milliseconds when the worker is already waiting for it), and polled as well.
    /// </summary>
    private static async Task<string> NewSocketAsync(string[] before, CancellationToken cancellationToken)
    {
        var created = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var watcher = new FileSystemWatcher(Path.GetTempPath().TrimEnd('/'), $"pi-{Environment.ProcessId:x}-*");
        watcher.Created += (_, e) => created.TrySetResult(e.FullPath);
        watcher.EnableRaisingEvents = true;
        while (true)
        {
            if (created.Task.IsCompleted)
            {
                return await created.Task;
            }

            if (Processes.SocketFilesOf(Environment.ProcessId).Except(before).FirstOrDefault() is { } socket)
            {
                return socket;
            }

            await Task.WhenAny(created.Task, Task.Delay(1, cancellationToken));
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Connects as soon as the host listens: the file exists a moment before the socket accepts connections.</summary>
    private static async Task<Socket> ConnectSoonAsync(string socket, CancellationToken cancellationToken)
    {
        for (int attempt = 0; ; attempt++)
        {
            var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await client.ConnectAsync(new UnixDomainSocketEndPoint(socket), cancellationToken);
                return client;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused && attempt < 1000)
            {
                client.Dispose();
                await Task.Delay(1, cancellationToken);
            }
            catch
            {
                client.Dispose();
                throw;
            }
        }
    }

    /// <summary>Connects, sends an HTTP request, and tells whether the host closed the connection without answering.</summary>
    private static async Task<bool> IntrudeAsync(string socket, CancellationToken cancellationToken)
    {
        using Socket client = await ConnectSoonAsync(socket, cancellationToken);
        try
        {
            await client.SendAsync("GET / HTTP/1.1\r\n\r\n"u8.ToArray(), SocketFlags.None, cancellationToken);
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.Shutdown or SocketError.ConnectionReset or SocketError.ConnectionAborted)
        {
            return true; // Dropped on sight (not the worker's process) before a byte was read: dropped without answering.
        }

        try
        {
            // Closed with our bytes unread, the connection may be reset rather than ended: both mean dropped. A
            // connection still queued when the worker has connected is never accepted at all: never answered either.
            using var patience = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            patience.CancelAfter(TimeSpan.FromSeconds(10));
            return await client.ReceiveAsync(new byte[16], SocketFlags.None, patience.Token) == 0;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return true;
        }
    }
}
