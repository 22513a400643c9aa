using System.Diagnostics;

namespace ProcIsolates.Tests;

/// <summary>Runs ProcIsolates.TestHost as a separate host process and ends it in the ways a host can end.</summary>
[Collection(nameof(Serial))]
public sealed class HostDeathTests
{
    [Theory]
    [InlineData("kill", false)]
    [InlineData("exit", false)]
    [InlineData("throw", false)]
    [InlineData("kill", true)]
    public async Task Every_worker_exits_within_a_second_of_its_host_and_no_socket_file_stays(string ending, bool appHosted)
    {
        using Process host = StartTestHost(workers: 3, ending == "kill" ? "wait" : ending, appHosted);
        (List<int> pids, _, string? spillDirectory) = await ReadReportAsync(host);

        Assert.NotNull(spillDirectory);

        Assert.Equal(3, pids.Count);
        if (ending == "kill")
        {
            // The host waits to be killed, so its workers are alive now (a host that exits may already be gone).
            Assert.All(pids, pid => Assert.True(Processes.IsAlive(pid)));
            if (!OperatingSystem.IsWindows())
            {
                // Private, and not listable: spill files are opened by their unguessable names only.
                Assert.Equal(UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(spillDirectory));
            }

            Assert.Single(Channels.LargeItems.FilesIn(spillDirectory)); // The large item the host wrote.
        }

        if (OperatingSystem.IsLinux() && ending == "kill")
        {
            // App-hosted workers run the app's own entry point (ProcIsolatesWorker.TryRun); others the worker assembly.
            string commandLine = File.ReadAllText($"/proc/{pids[0]}/cmdline").Replace('\0', ' ');
            Assert.Contains(appHosted ? "ProcIsolates.TestHost.dll --procisolates-worker" : "ProcIsolates.Worker.dll --pipe", commandLine, StringComparison.Ordinal);
        }

        // Every child of the host is a worker: the three interpreters, and any spare started ahead of need.
        int[] workers = pids.Union(Processes.ChildrenOf(host.Id)).ToArray();
        if (ending == "kill")
        {
            host.Kill(); // SIGKILL: no handler in the host runs.
        }

        await host.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Empty(await Processes.WaitAllGoneAsync(workers, TimeSpan.FromSeconds(1)));
        Assert.Empty(Processes.SocketFilesOf(host.Id));

        // Its spill directory goes too: the host deletes it on exit; if the host is killed, its workers do, on Linux.
        if (ending == "exit" || (ending == "kill" && OperatingSystem.IsLinux()))
        {
            Assert.False(Directory.Exists(spillDirectory), $"The spill directory {spillDirectory} outlived its host ({ending}).");
        }
    }

    [Fact]
    public async Task A_killed_host_leaves_no_process_behind_even_a_stopped_worker_or_a_program_a_worker_started()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // The job object does this on Windows; this test sends Unix signals.
        }

        using Process host = StartTestHost(workers: 3, "wait", appHosted: false, "grandchild");
        (List<int> pids, int grandchild, string? spillDirectory) = await ReadReportAsync(host);

        Assert.Equal(3, pids.Count);
        Assert.True(grandchild > 0 && Processes.IsAlive(grandchild), "the first worker should have started `sleep 1000`");

        // A stopped process ignores every signal but SIGKILL; the second worker is stopped when its host dies.
        Processes.Signal(pids[1], "STOP");
        await LifecycleTests.WaitUntilAsync(() => Processes.StateOf(pids[1]) is 'T' or 't');
        int[] everything = [.. pids.Union(Processes.ChildrenOf(host.Id)), grandchild];

        host.Kill(); // SIGKILL: no handler in the host runs.
        await host.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Empty(await Processes.WaitAllGoneAsync(everything, TimeSpan.FromSeconds(2)));
        Assert.Empty(Processes.SocketFilesOf(host.Id));
        await LifecycleTests.WaitUntilAsync(() => !Directory.Exists(spillDirectory));
    }

    [Fact]
    public async Task A_killed_host_leaves_no_cgroup_behind_and_nothing_that_escaped_its_workers_group()
    {
        if (!OperatingSystem.IsLinux() || !Sandbox.CgroupPaths.CanCreate())
        {
            return; // Cgroups of its own need root or a delegated cgroup; UnprivilegedHostTests covers the refusal.
        }

        using Process host = StartTestHost(workers: 1, "wait", appHosted: false, "cgroup");
        List<string> report = await ReadLinesAsync(host);
        string[] cgroups = Sandbox.CgroupPaths.FromProcCgroup(report.Where(l => l.StartsWith("cgroup ", StringComparison.Ordinal)).Select(l => l[7..]));
        Assert.NotEmpty(cgroups);
        Assert.All(cgroups, directory => Assert.True(Directory.Exists(directory), directory));

        host.Kill(); // SIGKILL: the reaper kills what is in the cgroups and removes them.
        await host.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await LifecycleTests.WaitUntilAsync(() => cgroups.All(directory => !Directory.Exists(directory)));
    }

    [Fact]
    public async Task A_worker_outlives_the_thread_that_created_its_interpreter()
    {
        // The kernel's parent-death signal follows the forking thread; workers are forked from a thread that never ends.
        Interpreter? interpreter = null;
        var creator = new Thread(() => interpreter = Interpreters.CreateAsync(new InterpreterOptions { Environment = new Dictionary<string, string?> { ["PROCISOLATES_TEST"] = "1" } }).GetAwaiter().GetResult());
        creator.Start();
        creator.Join();
        await using Interpreter created = interpreter!;
        await Task.Delay(500);
        Assert.True(Processes.IsAlive(created.ProcessId));
        Assert.Equal(3, await created.CallAsync(() => TestMethods.Add(1, 2)));
    }

    /// <summary>Reads what the test host prints until "ready".</summary>
    private static async Task<List<string>> ReadLinesAsync(Process host)
    {
        var lines = new List<string>();
        string? line;
        while ((line = await host.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60))) is not null && line != "ready")
        {
            lines.Add(line);
        }

        return lines;
    }

    /// <summary>Reads what the test host prints until "ready": its workers' pids, the program a worker started, its spill directory.</summary>
    private static async Task<(List<int> Pids, int Grandchild, string? SpillDirectory)> ReadReportAsync(Process host)
    {
        var pids = new List<int>();
        int grandchild = 0;
        string? spillDirectory = null;
        string? line;
        while ((line = await host.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60))) is not null && line != "ready")
        {
            if (line.StartsWith("pid ", StringComparison.Ordinal))
            {
                pids.Add(int.Parse(line[4..], System.Globalization.CultureInfo.InvariantCulture));
            }
            else if (line.StartsWith("grandchild ", StringComparison.Ordinal))
            {
                grandchild = int.Parse(line[11..], System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("spill ", StringComparison.Ordinal))
            {
                spillDirectory = line[6..];
            }
        }

        return (pids, grandchild, spillDirectory);
    }

    private static Process StartTestHost(int workers, string ending, bool appHosted, params string[] more)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "ProcIsolates.TestHost.dll");
        var start = new ProcessStartInfo(Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add("--runtimeconfig");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ProcIsolates.Tests.runtimeconfig.json"));
        start.ArgumentList.Add("--depsfile");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ProcIsolates.Tests.deps.json"));
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add(workers.ToString(System.Globalization.CultureInfo.InvariantCulture));
        start.ArgumentList.Add(ending);
        if (appHosted)
        {
            start.ArgumentList.Add("self");
        }

        foreach (string argument in more)
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        return process;
    }
}
