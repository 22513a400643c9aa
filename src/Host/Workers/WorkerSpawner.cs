using System.Collections.Concurrent;
using System.Diagnostics;

namespace ProcIsolates.Workers;

/// <summary>
/// Starts worker processes from one thread that lives as long as the host. On Linux a worker asks to be killed when
/// its parent dies (<c>PR_SET_PDEATHSIG</c>), and the kernel means the parent <em>thread</em>: a worker forked from a
/// thread-pool thread would be killed when the pool retires that thread.
/// </summary>
internal static class WorkerSpawner
{
    private static readonly BlockingCollection<(Process Process, TaskCompletionSource Started)> Requests = [];
    private static readonly Lazy<Thread> Spawner = new(() =>
    {
        var thread = new Thread(Run) { IsBackground = true, Name = "ProcIsolates worker spawner" };
        thread.Start();
        return thread;
    });

    /// <summary>Starts <paramref name="process"/> on the spawner thread.</summary>
    /// <param name="process">The process, configured.</param>
    /// <returns>A task that completes when it has started.</returns>
    public static Task StartAsync(Process process)
    {
        if (!OperatingSystem.IsLinux())
        {
            Start(process);
            return Task.CompletedTask;
        }

        _ = Spawner.Value;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Requests.Add((process, started));
        return started.Task;
    }

    private static void Run()
    {
        foreach ((Process process, TaskCompletionSource started) in Requests.GetConsumingEnumerable())
        {
            try
            {
                Start(process);
                started.SetResult();
            }
#pragma warning disable CA1031 // Handed to the caller, who reports it.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                started.SetException(ex);
            }
        }
    }

    private static void Start(Process process)
    {
        process.Start();
        if (OperatingSystem.IsWindows())
        {
            WindowsJob.TryAssign(process);
        }
        else
        {
            OrphanReaper.Watch(process.Id);
        }

    }
}
