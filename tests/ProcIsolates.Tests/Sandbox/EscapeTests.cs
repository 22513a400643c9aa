using System.ComponentModel;
using System.Net;
using System.Net.Sockets;

namespace ProcIsolates.Tests.Sandbox;

/// <summary>
/// The escape suite: one attempt per test, each from inside a sandboxed worker. Each must fail there with an
/// exception the code can catch, leave the worker usable, and leave the host unharmed.
/// </summary>
public sealed class EscapeTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Tcp_connect_to_a_loopback_listener_fails()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        await using Interpreter jail = await StrictAsync();

        string outcome = await jail.CallAsync(() => EscapeAttempts.ConnectTcp(port)).WaitAsync(Bound);

        Assert.Equal(typeof(SocketException).FullName, outcome);
        Assert.False(listener.Pending());
        await AssertUsableAsync(jail);
    }

    [Fact]
    public async Task Udp_send_fails()
    {
        using var receiver = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)receiver.Client.LocalEndPoint!).Port;
        await using Interpreter jail = await StrictAsync();

        string outcome = await jail.CallAsync(() => EscapeAttempts.SendUdp(port)).WaitAsync(Bound);

        Assert.Equal(typeof(SocketException).FullName, outcome);
        Assert.Equal(0, receiver.Available); // A loopback datagram would be here by the time the call returned.
        await AssertUsableAsync(jail);
    }

    [Fact]
    public async Task A_raw_fork_fails_with_EPERM()
    {
        await using Interpreter jail = await StrictAsync();

        Assert.Equal("EPERM", await jail.CallAsync(() => EscapeAttempts.ForkRaw()).WaitAsync(Bound));
        await AssertUsableAsync(jail);
    }

    [Fact]
    public async Task Starting_a_shell_fails()
    {
        string marker = Path.Combine(Path.GetTempPath(), "procisolates-escape-" + Guid.NewGuid().ToString("N"));
        await using Interpreter jail = await StrictAsync();

        string outcome = await jail.CallAsync(() => EscapeAttempts.StartShell(marker)).WaitAsync(Bound);

        Assert.Equal(typeof(Win32Exception).FullName, outcome);
        Assert.False(File.Exists(marker));
        await AssertUsableAsync(jail);
    }

    [Fact]
    public async Task Reading_a_file_outside_the_allowed_paths_fails()
    {
        DirectoryInfo outside = Directory.CreateTempSubdirectory("procisolates-escape-");
        try
        {
            string secret = Path.Combine(outside.FullName, "secret.txt");
            await File.WriteAllTextAsync(secret, "the host's secret");
            await using Interpreter jail = await StrictAsync();

            string outcome = await jail.CallAsync(() => EscapeAttempts.ReadFile(secret)).WaitAsync(Bound);

            Assert.Equal(typeof(UnauthorizedAccessException).FullName, outcome);
            await AssertUsableAsync(jail);
        }
        finally
        {
            outside.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Writing_a_file_outside_the_allowed_paths_fails()
    {
        DirectoryInfo outside = Directory.CreateTempSubdirectory("procisolates-escape-");
        try
        {
            string planted = Path.Combine(outside.FullName, "planted.txt");
            await using Interpreter jail = await StrictAsync();

            string outcome = await jail.CallAsync(() => EscapeAttempts.WriteFile(planted)).WaitAsync(Bound);

            Assert.Equal(typeof(UnauthorizedAccessException).FullName, outcome);
            Assert.False(File.Exists(planted));
            await AssertUsableAsync(jail);
        }
        finally
        {
            outside.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Killing_the_host_fails()
    {
        int host = Environment.ProcessId;
        await using Interpreter jail = await StrictAsync();

        // First a bystander, so that a sandbox that fails to stop signals fails this test without ending the test run.
        using var bystander = System.Diagnostics.Process.Start("sleep", "60")!;
        try
        {
            Assert.Equal(typeof(Win32Exception).FullName, await jail.CallAsync(() => EscapeAttempts.KillProcess(bystander.Id)).WaitAsync(Bound));
            Assert.False(bystander.HasExited);

            Assert.Equal(typeof(Win32Exception).FullName, await jail.CallAsync(() => EscapeAttempts.KillProcess(host)).WaitAsync(Bound));
            await AssertUsableAsync(jail); // And this test process, the host, is still running it.
        }
        finally
        {
            bystander.Kill();
        }
    }

    [Fact]
    public async Task Reading_the_hosts_environment_and_memory_fails()
    {
        int host = Environment.ProcessId;
        await using Interpreter jail = await StrictAsync();

        Assert.Equal(typeof(UnauthorizedAccessException).FullName, await jail.CallAsync(() => EscapeAttempts.ReadFile($"/proc/{host}/environ")).WaitAsync(Bound));
        Assert.Equal(typeof(UnauthorizedAccessException).FullName, await jail.CallAsync(() => EscapeAttempts.ReadFile($"/proc/{host}/mem")).WaitAsync(Bound));
        await AssertUsableAsync(jail);
    }

    [Fact]
    public async Task Reading_the_hosts_environment_fails_with_the_file_system_allowed()
    {
        // The whole file system is allowed here, except other processes' /proc entries (OtherProcesses = false): the
        // host's memory is also refused by Landlock's tracing rule, its environment only by hiding /proc/<host>.
        int host = Environment.ProcessId;
        string ordinary = Path.Combine(Path.GetTempPath(), "procisolates-readable-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(ordinary, "readable");
        try
        {
            await using Interpreter jail = await Interpreters.CreateAsync(new InterpreterOptions { Sandbox = SandboxOptions.Strict with { FileSystem = true } });

            Assert.Equal(EscapeAttempts.Succeeded, await jail.CallAsync(() => EscapeAttempts.ReadFile(ordinary)).WaitAsync(Bound));
            Assert.Equal(typeof(UnauthorizedAccessException).FullName, await jail.CallAsync(() => EscapeAttempts.ReadFile($"/proc/{host}/environ")).WaitAsync(Bound));
            Assert.Equal(typeof(UnauthorizedAccessException).FullName, await jail.CallAsync(() => EscapeAttempts.ReadFile($"/proc/{host}/mem")).WaitAsync(Bound));
            await AssertUsableAsync(jail);
        }
        finally
        {
            File.Delete(ordinary);
        }
    }

    [Fact]
    public async Task A_thousand_threads_under_MaxThreads_64_fail()
    {
        await using Interpreter jail = await StrictAsync(SandboxOptions.Strict with { MaxThreads = 64 });

        string[] outcome = (await jail.CallAsync(() => EscapeAttempts.StartThreads(1000)).WaitAsync(Bound)).Split(' ');

        Assert.NotEqual(EscapeAttempts.Succeeded, outcome[1]);
        Assert.InRange(int.Parse(outcome[0], System.Globalization.CultureInfo.InvariantCulture), 0, 63);
        await AssertUsableAsync(jail);
    }

    [Fact]
    public async Task Two_busy_threads_under_CpuLimit_half_use_at_most_half_a_core()
    {
        await using Interpreter jail = await StrictAsync(SandboxOptions.Strict with { CpuLimit = 0.5 });

        double ratio = await jail.CallAsync(() => EscapeAttempts.BusyCpuRatio(3)).WaitAsync(Bound);

        Assert.InRange(ratio, 0, 0.55);
        await AssertUsableAsync(jail);
    }

    [Fact]
    public async Task A_gibibyte_of_native_memory_under_MemoryLimit_256_MiB_never_succeeds()
    {
        await using Interpreter jail = await StrictAsync(SandboxOptions.Strict with { MemoryLimit = 256L << 20 });

        string outcome;
        try
        {
            outcome = await jail.CallAsync(() => EscapeAttempts.AllocateNative(1L << 30)).WaitAsync(Bound);
        }
        catch (InterpreterCrashedException crashed)
        {
            outcome = "crashed: " + crashed.Message; // The kernel's OOM killer ended the worker: reported, not silent.
        }

        Assert.NotEqual(EscapeAttempts.Succeeded, outcome);
        if (!outcome.StartsWith("crashed", StringComparison.Ordinal))
        {
            await AssertUsableAsync(jail); // The allocation failed in the code that tried: the worker goes on.
        }

        // The host is unharmed, and a new sandboxed interpreter starts.
        await using Interpreter next = await StrictAsync(SandboxOptions.Strict with { MemoryLimit = 256L << 20 });
        await AssertUsableAsync(next);
    }

    internal static Task<Interpreter> StrictAsync(SandboxOptions? sandbox = null) =>
        Interpreters.CreateAsync(new InterpreterOptions { Sandbox = sandbox ?? SandboxOptions.Strict }).WaitAsync(Bound);

    internal static async Task AssertUsableAsync(Interpreter jail)
    {
        Assert.Equal(jail.ProcessId, await jail.CallAsync(() => EscapeAttempts.Ping()).WaitAsync(Bound));
        Assert.Equal("ok", (await jail.ExecAsync("Console.Write(\"ok\");").WaitAsync(Bound)).Stdout);
    }
}
