using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace ProcIsolates.Workers;

/// <summary>
/// On Linux and macOS, makes sure nothing a worker started outlives the host, however the host ends (even
/// <c>kill -9</c>). Each worker leads a process group of its own (it calls <c>setpgid</c> before any user code runs),
/// so the programs it starts are in that group too. A small <c>/bin/sh</c> started once per host keeps the list of
/// live groups on its standard input; when that input ends (the host is gone and the kernel closed its end), it sends
/// SIGKILL to every group, which ends even stopped processes, kills what is left in sandboxed workers' cgroups and
/// removes those, and deletes the host's spill directory and socket files.
/// The parent-death signal (SIGKILL, Linux) remains the first way out for the workers themselves.
/// </summary>
/// <remarks>
/// A process that leaves its group on purpose (<c>setsid</c>) escapes this; a sandboxed worker's cgroup holds it
/// anyway. On Windows the job object (<see cref="WindowsJob"/>) does this work.
/// </remarks>
internal static partial class OrphanReaper
{
    private const int SigKill = 9;

    // Ignores the signals a terminal sends its foreground group, so that Ctrl-C on the host does not take the reaper
    // first. A group leaves the list when its worker has been reaped, so a reused process id is never killed later.
    private const string Script = """
        trap '' INT HUP TERM QUIT PIPE
        groups=' '
        cgroups=''
        while read -r op id; do
          case $op in
            +) groups="$groups$id " ;;
            -) groups=$(printf '%s' "$groups" | sed "s/ $id / /") ;;
            c) cgroups=$(printf '%s\n%s' "$cgroups" "$id") ;;
            u) cgroups=$(printf '%s\n' "$cgroups" | grep -vxF -- "$id") ;;
          esac
        done
        for g in $groups; do kill -9 "-$g" 2>/dev/null; done
        printf '%s\n' "$cgroups" | while IFS= read -r d; do
          [ -n "$d" ] && [ -d "$d" ] || continue
          [ -f "$d/cgroup.kill" ] && echo 1 > "$d/cgroup.kill" 2>/dev/null
          for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
          i=0
          while [ -d "$d" ] && ! rmdir "$d" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
        done
        if [ -n "$1" ]; then chmod 700 "$1" 2>/dev/null; rm -rf -- "$1"; fi
        rm -f -- "$2"/pi-"$3"-*.sock /tmp/pi-"$3"-*.sock
        """;

    /// <summary>How many lines may wait for the reaper; more means it is not reading (stopped, say).</summary>
    private const int MaxWaitingLines = 10_000;

    private static readonly Lock Gate = new();
    private static readonly System.Collections.Concurrent.BlockingCollection<string> Lines = new(MaxWaitingLines);
    private static Process? reaper;
    private static bool failed;

    /// <summary>
    /// Adds a sandboxed worker's cgroup directory: if the host dies, every process in it is killed (even one that left
    /// the worker's process group) and the cgroup removed.
    /// </summary>
    /// <param name="directory">The cgroup's directory.</param>
    public static void WatchCgroup(string directory) => Send('c', directory);

    /// <summary>Takes a cgroup the host has removed off the list.</summary>
    /// <param name="directory">The cgroup's directory.</param>
    public static void ReleaseCgroup(string directory) => Send('u', directory);

    /// <summary>Adds a started worker's process group to the list.</summary>
    /// <param name="processId">The worker's process id, which is its group's id.</param>
    public static void Watch(int processId) => Send('+', processId);

    /// <summary>Kills what is left of a worker's group now and takes it off the list (the worker has exited or been killed).</summary>
    /// <param name="processId">The worker's process id.</param>
    public static void Release(int processId)
    {
        KillGroup(processId);
        Send('-', processId);
    }

    /// <summary>Sends SIGKILL to the process group led by <paramref name="processId"/>, if there is one.</summary>
    /// <param name="processId">The group's id.</param>
    public static void KillGroup(int processId)
    {
        if (!OperatingSystem.IsWindows() && processId > 1)
        {
            _ = Kill(-processId, SigKill);
        }
    }

    private static void Send(char operation, int processId) => Send(operation, processId.ToString(CultureInfo.InvariantCulture));

    private static void Send(char operation, string argument)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        lock (Gate)
        {
            if (Started() is null)
            {
                return;
            }
        }

        // Never blocks the caller (a worker start): a reaper that does not read (a worker stopped it) only loses lines.
        if (argument.Contains('\n', StringComparison.Ordinal) || !Lines.TryAdd(string.Create(CultureInfo.InvariantCulture, $"{operation} {argument}")))
        {
            failed = true;
        }
    }

    /// <summary>Hands the lines to the reaper, on a thread of its own, since a write to its pipe can block.</summary>
    private static void Feed(Process process)
    {
        try
        {
            foreach (string line in Lines.GetConsumingEnumerable())
            {
                process.StandardInput.WriteLine(line);
                process.StandardInput.Flush();
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException)
        {
            failed = true; // The reaper is gone (someone killed it): the parent-death signal still ends the workers.
        }
    }

    private static Process? Started()
    {
        if (reaper is not null || failed)
        {
            return reaper;
        }

        try
        {
            // In a session of its own where setsid exists, so that a signal to the host's process group (a supervisor
            // killing the host and its group) leaves the reaper to do its work.
            bool ownSession = File.Exists("/usr/bin/setsid") || File.Exists("/bin/setsid");
            var start = new ProcessStartInfo(ownSession ? "setsid" : "/bin/sh")
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
            };
            if (ownSession)
            {
                start.ArgumentList.Add("/bin/sh");
            }

            foreach (string argument in new[]
                {
                    "-c", Script, "procisolates-reaper",
                    Channels.Spill.SpillStore.HostDirectory ?? string.Empty,
                    Path.GetTempPath().TrimEnd('/'),
                    Environment.ProcessId.ToString("x", CultureInfo.InvariantCulture),
                })
            {
                start.ArgumentList.Add(argument);
            }

            reaper = Process.Start(start);
            if (reaper is { } started)
            {
                new Thread(() => Feed(started)) { IsBackground = true, Name = "ProcIsolates orphan reaper feed" }.Start();
            }
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or IOException or InvalidOperationException)
        {
            failed = true;
        }

        return reaper;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int processId, int signal);
}
