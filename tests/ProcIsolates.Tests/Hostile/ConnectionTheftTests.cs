using System.Diagnostics;
using System.Net.Sockets;

namespace ProcIsolates.Tests.Hostile;

/// <summary>
/// Processes of the same user that try to take a worker's connection: the host accepts only the process it started,
/// the worker greets only the process that started it (the peer's process id, from the system).
/// </summary>
[Collection(nameof(Serial))]
public sealed class ConnectionTheftTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    /// <summary>How many failed peers end a start (WorkerListener.MaxConnectAttempts).</summary>
    private const int WorkerListenerLimit = 8;

    [Fact]
    public async Task Twenty_intruders_that_connect_first_do_not_use_up_the_workers_attempts()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        using var stop = new CancellationTokenSource(Bound);

        // Other starts (a spare, a pool's background start) end first, so that the next socket is this test's.
        await LifecycleTests.WaitUntilAsync(() => Processes.SocketFilesOf(Environment.ProcessId).Length == 0);
        string[] before = Processes.SocketFilesOf(Environment.ProcessId);
        Task<int> intruders = Task.Run(async () =>
        {
            string socket = await NewSocketAsync(before, stop.Token);
            var clients = new List<Socket>();
            try
            {
                for (int i = 0; i < 20; i++)
                {
                    var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    clients.Add(client);
                    await client.ConnectAsync(new UnixDomainSocketEndPoint(socket), stop.Token);
                    try
                    {
                        await client.SendAsync("PISO\u0003\u0000\u0000\u0020"u8.ToArray(), SocketFlags.None, stop.Token); // A greeting, never finished.
                    }
                    catch (SocketException)
                    {
                        // Dropped on sight already.
                    }
                }

                return clients.Count;
            }
            catch (SocketException)
            {
                return clients.Count - 1; // The worker connected and the socket went away: the rest could not come.
            }
            finally
            {
                clients.ForEach(c => c.Dispose());
            }
        });

        await using Interpreter interpreter = await Interpreters.CreateAsync(new InterpreterOptions { Environment = new Dictionary<string, string?> { ["PROCISOLATES_TEST"] = "intruders" } }, stop.Token);
        int connected = await intruders;
        Assert.True(connected > WorkerListenerLimit, $"only {connected} intruders connected before the worker; the test needs more than the {WorkerListenerLimit} attempts a start allows");
        Assert.Equal(7, await interpreter.CallAsync(() => TestMethods.Add(3, 4)));
    }

    [Fact]
    public async Task A_process_that_renames_the_socket_and_relays_it_never_sees_the_token()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        string log = Path.Combine(Path.GetTempPath(), "procisolates-relay-" + Guid.NewGuid().ToString("N"));
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Hostile", "Scripts", "relay.py"));
        start.ArgumentList.Add(Path.GetTempPath().TrimEnd('/'));
        start.ArgumentList.Add($"pi-{Environment.ProcessId:x}-");
        start.ArgumentList.Add(log);
        using Process relay = Process.Start(start)!;
        string? relayed = null;
        try
        {
            Assert.Equal("watching", await relay.StandardOutput.ReadLineAsync().WaitAsync(Bound));
            Task<string?> relaying = relay.StandardOutput.ReadLineAsync();

            // The worker connects to the relay, finds that it is not its host, and says nothing; it exits, and the
            // create fails: a denial of service is all the relay achieves.
            Exception? failure = await Record.ExceptionAsync(async () =>
            {
                await using Interpreter interpreter = await Interpreters.CreateAsync(new InterpreterOptions { Environment = new Dictionary<string, string?> { ["PROCISOLATES_TEST"] = "relay" } });
                Assert.Equal(7, await interpreter.CallAsync(() => TestMethods.Add(3, 4)));
            });

            string? line = await relaying.WaitAsync(Bound);
            Assert.StartsWith("relaying ", line, StringComparison.Ordinal);
            relayed = line!["relaying ".Length..];
            Assert.Equal("accepted", await relay.StandardOutput.ReadLineAsync().WaitAsync(Bound)); // The worker did connect to it.
            Assert.IsAssignableFrom<InterpreterException>(failure); // "exited before connecting to the host"
            Assert.False(File.Exists(log) && new FileInfo(log).Length > 0, "the worker sent its greeting to the relay");

            // The host is unharmed: the next interpreter starts.
            relay.Kill();
            await using Interpreter next = await Interpreters.CreateAsync(new InterpreterOptions { Environment = new Dictionary<string, string?> { ["PROCISOLATES_TEST"] = "after-relay" } });
            Assert.Equal(3, await next.CallAsync(() => TestMethods.Add(1, 2)));
        }
        finally
        {
            if (!relay.HasExited)
            {
                relay.Kill();
            }

            File.Delete(log);
            if (relayed is not null)
            {
                // The relay's socket and the host's, renamed: the host cannot know of either.
                File.Delete(relayed);
                File.Delete(relayed + ".real");
            }
        }
    }

    private static async Task<string> NewSocketAsync(string[] before, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (Processes.SocketFilesOf(Environment.ProcessId).Except(before).FirstOrDefault() is { } socket)
            {
                return socket;
            }

            await Task.Delay(1, cancellationToken);
        }
    }
}
