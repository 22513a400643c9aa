using System.Diagnostics;
using ProcIsolates.Tests;
using Xunit.Abstractions;

namespace ProcIsolates.Soak;

/// <summary>Creating and closing interpreters again and again leaks nothing: counts, not timings, are asserted.</summary>
public sealed class CreateCloseSoakTests(ITestOutputHelper output)
{
    private const int Cycles = 1_000;

    /// <summary>
    /// Slack for counts that move on their own: the thread pool starts and retires threads, and a spare worker may be
    /// starting at the moment of a snapshot. A leak of one handle or thread per cycle would be a thousand.
    /// </summary>
    private const int Slack = 12;

    [Fact]
    public async Task A_thousand_create_close_cycles_grow_no_handles_threads_processes_or_socket_files()
    {
        // Warm-up cycles: the first ones load assemblies, start the thread pool and the spawner thread.
        await CyclesAsync(20);
        Snapshot before = await SettledSnapshotAsync();

        await CyclesAsync(Cycles / 2);
        Snapshot middle = await SettledSnapshotAsync();
        await CyclesAsync(Cycles / 2);
        Snapshot after = await SettledSnapshotAsync();

        output.WriteLine($"before: {before}");
        output.WriteLine($"after {Cycles / 2} cycles: {middle}");
        output.WriteLine($"after {Cycles} cycles: {after}");
        Assert.InRange(after.Handles, 0, before.Handles + Slack);
        Assert.InRange(after.Threads, 0, before.Threads + Slack);
        Assert.InRange(after.Children, 0, before.Children);
        Assert.InRange(after.SocketFiles, 0, before.SocketFiles);
        Assert.Single(Interpreters.ListAll()); // Only the main interpreter is left.
    }

    private static async Task CyclesAsync(int count)
    {
        for (int i = 0; i < count; i++)
        {
            Interpreter interpreter = await Interpreters.CreateAsync();
            Assert.Equal(3, await interpreter.CallAsync(() => Math.Max(2, 3)));
            await interpreter.CloseAsync();
        }
    }

    /// <summary>Counts once the spare worker has started and connected (its socket file is gone), so that counts compare.</summary>
    private static async Task<Snapshot> SettledSnapshotAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (Processes.SocketFilesOf(Environment.ProcessId).Length > 0)
        {
            await Task.Delay(50, timeout.Token);
        }

        await Task.Delay(1000, timeout.Token);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var self = Process.GetCurrentProcess();
        return new Snapshot(
            Handles: OperatingSystem.IsLinux() ? Directory.GetFiles("/proc/self/fd").Length : self.HandleCount,
            Threads: self.Threads.Count,
            Children: Processes.ChildrenOf(Environment.ProcessId).Length,
            SocketFiles: Processes.SocketFilesOf(Environment.ProcessId).Length);
    }

    private sealed record Snapshot(int Handles, int Threads, int Children, int SocketFiles);
}
