using ProcIsolates.Worker;

namespace ProcIsolates;

/// <summary>
/// Lets an app be its own worker executable. A self-contained or single-file app has no
/// <c>ProcIsolates.Worker.dll</c> on disk to start; call <see cref="TryRun"/> first thing in <c>Main</c>, and
/// ProcIsolates starts workers by running the app's own executable with a worker command line instead.
/// </summary>
/// <example>
/// <code>
/// if (ProcIsolatesWorker.TryRun(args, out int exitCode))
/// {
///     return exitCode;
/// }
/// // … the app as usual
/// </code>
/// </example>
public static class ProcIsolatesWorker
{
    private static volatile bool called;

    /// <summary>Whether this app called <see cref="TryRun"/>, so that its own executable can host workers.</summary>
    public static bool IsHostedByApp => called;

    /// <summary>
    /// Runs this process as a ProcIsolates worker if <paramref name="args"/> is a worker command line, and otherwise
    /// returns <see langword="false"/> at once and remembers that the app can host workers.
    /// </summary>
    /// <param name="args">The arguments of <c>Main</c>.</param>
    /// <param name="exitCode">The worker's exit code, when this process was a worker.</param>
    /// <returns>Whether this process ran as a worker (and should now exit with <paramref name="exitCode"/>).</returns>
    public static bool TryRun(string[] args, out int exitCode)
    {
        ArgumentNullException.ThrowIfNull(args);
        called = true;
        if (args.Length == 0 || args[0] != WorkerProcess.AppHostedMarker)
        {
            exitCode = 0;
            return false;
        }

        exitCode = WorkerProcess.RunAsync(args[1..]).GetAwaiter().GetResult();
        return true;
    }
}
