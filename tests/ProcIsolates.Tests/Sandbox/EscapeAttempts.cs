using System.ComponentModel;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace ProcIsolates.Tests.Sandbox;

/// <summary>
/// What the escape tests try from inside a sandboxed worker. Each returns the type name of the exception the attempt
/// threw (caught here, as any code could), or <see cref="Succeeded"/>.
/// </summary>
public static partial class EscapeAttempts
{
    public const string Succeeded = "succeeded";

    public static int Ping() => Environment.ProcessId;

    public static string ConnectTcp(int port) => Attempt(() =>
    {
        using var client = new TcpClient();
        client.Connect(IPAddress.Loopback, port);
    });

    public static string SendUdp(int port) => Attempt(() =>
    {
        using var client = new UdpClient();
        client.Send([1, 2, 3], 3, new IPEndPoint(IPAddress.Loopback, port));
    });

    public static string StartShell(string marker) => Attempt(() =>
    {
        using Process? shell = Process.Start("/bin/sh", ["-c", $"echo escaped > '{marker}'"]);
        shell?.WaitForExit();
    });

    public static string ReadFile(string path) => Attempt(() => File.ReadAllBytes(path));

    public static string WriteFile(string path) => Attempt(() => File.WriteAllText(path, "escaped"));

    /// <summary>kill(2) itself, not Process.Kill, which would first look the process up in /proc.</summary>
    public static string KillProcess(int pid) => Attempt(() =>
    {
        if (Kill(pid, 9) != 0)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError());
        }
    });

    /// <summary>Starts up to <paramref name="count"/> threads that wait until all are started (or one fails); returns how many started and how it ended.</summary>
    public static string StartThreads(int count)
    {
        using var release = new ManualResetEventSlim();
        var threads = new List<Thread>();
        string outcome = Succeeded;
        try
        {
            for (int i = 0; i < count; i++)
            {
                var thread = new Thread(() => release.Wait()) { IsBackground = true };
                thread.Start();
                threads.Add(thread);
            }
        }
#pragma warning disable CA1031 // The test wants whatever the attempt threw.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            outcome = ex.GetType().FullName!;
        }

        release.Set();
        foreach (Thread thread in threads)
        {
            thread.Join();
        }

        return $"{threads.Count} {outcome}";
    }

    /// <summary>Two threads spin for <paramref name="seconds"/>; returns this process's CPU time over the wall time.</summary>
    public static double BusyCpuRatio(double seconds)
    {
        using var process = Process.GetCurrentProcess();
        TimeSpan cpuBefore = process.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        var spinners = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
        {
            while (wall.Elapsed.TotalSeconds < seconds)
            {
            }
        })).ToList();
        spinners.ForEach(t => t.Start());
        spinners.ForEach(t => t.Join());
        process.Refresh();
        return (process.TotalProcessorTime - cpuBefore).TotalSeconds / wall.Elapsed.TotalSeconds;
    }

    /// <summary>Allocates native memory and touches every page of it (untouched pages cost nothing).</summary>
    public static unsafe string AllocateNative(long bytes) => Attempt(() =>
    {
        byte* memory = (byte*)NativeMemory.Alloc((nuint)bytes);
        try
        {
            for (long offset = 0; offset < bytes; offset += 4096)
            {
                memory[offset] = 1;
            }
        }
        finally
        {
            NativeMemory.Free(memory);
        }
    });

    private static string Attempt(Action attempt)
    {
        try
        {
            attempt();
            return Succeeded;
        }
#pragma warning disable CA1031 // The test wants whatever the attempt threw.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return ex.GetType().FullName!;
        }
    }

    /// <summary>
    /// A raw <c>fork()</c>, past .NET's Process class: its result and errno ("pid" if a child was made, which then
    /// exits at once; "EPERM" and the like if it was refused).
    /// </summary>
    public static string ForkRaw()
    {
        int pid = Fork();
        if (pid == 0)
        {
            Exit(0); // The child: gone before it can run anything.
        }

        if (pid > 0)
        {
            _ = WaitPid(pid, IntPtr.Zero, 0);
            return "pid";
        }

        return Marshal.GetLastPInvokeError() == 1 ? "EPERM" : "errno " + Marshal.GetLastPInvokeError();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "fork", SetLastError = true)]
    private static partial int Fork();

    [LibraryImport("libc", EntryPoint = "_exit")]
    private static partial void Exit(int status);

    [LibraryImport("libc", EntryPoint = "waitpid", SetLastError = true)]
    private static partial int WaitPid(int pid, IntPtr status, int options);
}
