using System.Diagnostics;

namespace ProcIsolates.Tests;

/// <summary>Looks at processes and socket files from outside, as an operator would.</summary>
internal static class Processes
{
    public static bool IsAlive(int pid)
    {
        if (OperatingSystem.IsLinux())
        {
            // A zombie still has /proc/<pid>; only a live process has a state other than Z.
            string stat = $"/proc/{pid}/stat";
            try
            {
                string text = File.ReadAllText(stat);
                return text[(text.LastIndexOf(')') + 2)] != 'Z';
            }
            catch (IOException)
            {
                return false;
            }
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for every process to be gone; returns the ones still alive.</summary>
    public static async Task<int[]> WaitAllGoneAsync(IEnumerable<int> pids, TimeSpan timeout)
    {
        int[] watched = pids.ToArray();
        var watch = Stopwatch.StartNew();
        while (true)
        {
            int[] alive = watched.Where(IsAlive).ToArray();
            if (alive.Length == 0 || watch.Elapsed > timeout)
            {
                return alive;
            }

            await Task.Delay(20);
        }
    }

    /// <summary>The socket files a host process has made for its workers (see PipeEndpoint).</summary>
    public static string[] SocketFilesOf(int hostPid)
    {
        string prefix = $"pi-{hostPid:x}-";
        return new[] { Path.GetTempPath(), "/tmp" }.Distinct().Where(Directory.Exists)
            .SelectMany(d => Directory.GetFiles(d, prefix + "*"))
            .ToArray();
    }

    /// <summary>The live child processes of <paramref name="parentPid"/> but its orphan reaper (Linux only; empty elsewhere).</summary>
    public static int[] ChildrenOf(int parentPid)
    {
        if (!OperatingSystem.IsLinux())
        {
            return [];
        }

        var children = new List<int>();
        foreach (string directory in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out int pid))
            {
                continue;
            }

            try
            {
                string text = File.ReadAllText(Path.Combine(directory, "stat"));
                string[] fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
                if (fields[0] != "Z" && int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) == parentPid && !IsReaper(directory))
                {
                    children.Add(pid);
                }
            }
            catch (IOException)
            {
                // Gone meanwhile.
            }
        }

        return children.ToArray();
    }

    /// <summary>Sends a signal by name (STOP, CONT, KILL…) with the kill command.</summary>
    public static void Signal(int pid, string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>The state letter of a Linux process (R, S, T for stopped, Z…), or a space if it is gone.</summary>
    public static char StateOf(int pid)
    {
        try
        {
            string text = File.ReadAllText($"/proc/{pid}/stat");
            return text[text.LastIndexOf(')') + 2];
        }
        catch (IOException)
        {
            return ' ';
        }
    }

    /// <summary>Whether the process is a host's orphan reaper, the one child of a host that is not a worker.</summary>
    private static bool IsReaper(string procDirectory)
    {
        try
        {
            return File.ReadAllText(Path.Combine(procDirectory, "cmdline")).Contains("\0procisolates-reaper\0", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    public static void KillHard(int pid)
    {
        using var process = Process.GetProcessById(pid);
        process.Kill(); // SIGKILL on Unix
    }
}
