using System.ComponentModel;
using System.Runtime.InteropServices;
using System.Text;

namespace ProcIsolates.Worker.Sandbox;

/// <summary>
/// Puts a worker into its sandbox, on Linux, in two steps. Landlock restricts only the calling thread and what it
/// starts, and the runtime has threads before <c>Main</c> runs; so the worker's first act is to restrict its main thread
/// and re-execute its own command line (<c>execve</c> keeps the Landlock domain and <c>PR_SET_NO_NEW_PRIVS</c>, and
/// the process id, standard input with the handshake token, and standard error). The second step, once the fresh
/// runtime has connected to the host, installs the seccomp filter on every thread. A root worker also loses its
/// capabilities at that exec (<see cref="Capabilities"/>).
/// </summary>
internal static unsafe partial class WorkerSandbox
{
    /// <summary>The argument the first step appends so that the re-executed worker knows it is confined.</summary>
    public const string ConfinedArgument = "--sandbox-confined";

    /// <summary>Restricts this process's file system, network, signals and tracing, then re-executes it; returns only on failure.</summary>
    /// <param name="policy">What the worker may do.</param>
    /// <param name="spillDirectory">The host's directory for large channel items (files in it are written, read and deleted; it is not listed).</param>
    /// <returns>Why it failed.</returns>
    public static string ConfineAndReexecute(SandboxPolicy policy, string? spillDirectory)
    {
        try
        {
            string[] commandLine = File.ReadAllText("/proc/self/cmdline").Split('\0', StringSplitOptions.None)[..^1];
            string program = Environment.ProcessPath ?? throw new InvalidOperationException("The worker's executable is unknown.");
            Landlock.SetNoNewPrivileges();
            Capabilities.DropAll();
            if (policy.NeedsLandlock)
            {
                ApplyLandlock(policy, spillDirectory, commandLine);
            }

            Execute(program, [.. commandLine, ConfinedArgument, "1"]);
            return $"execve({program}) failed: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}";
        }
        catch (Exception ex) when (ex is Win32Exception or IOException or InvalidOperationException or UnauthorizedAccessException)
        {
            return ex.Message;
        }
    }

    /// <summary>The second step: the seccomp filter, on every thread, once the worker's connections are up.</summary>
    /// <param name="policy">What the worker may do.</param>
    public static void InstallSystemCallFilter(SandboxPolicy policy)
    {
        if (policy.NeedsSeccomp)
        {
            Seccomp.Install(policy);
        }
    }

    private static void ApplyLandlock(SandboxPolicy policy, string? spillDirectory, string[] commandLine)
    {
        int abi = Landlock.AbiVersion();
        ulong allFiles = Landlock.FileAccessesOf(abi);
        // Landlock's tracing rule denies other processes' memory but, on the kernels tested (6.18), not their
        // /proc/<pid>/environ: so a sandbox that keeps the file system but not other processes hides their /proc entries.
        bool hideOtherProcesses = policy.FileSystem && !policy.OtherProcesses;
        ulong handledFiles = !policy.FileSystem ? allFiles : hideOtherProcesses ? Landlock.ReadFile | Landlock.ReadDir : 0;
        ulong handledNet = !policy.Network && abi >= 4 ? Landlock.BindTcp | Landlock.ConnectTcp : 0;
        ulong scoped = !policy.OtherProcesses && abi >= 6 ? Landlock.ScopeSignal | Landlock.ScopeAbstractUnixSocket : 0;
        using Landlock.SafeRulesetHandle ruleset = Landlock.CreateRuleset(handledFiles, handledNet, scoped, abi);
        if (!policy.FileSystem)
        {
            const ulong read = Landlock.ReadFile | Landlock.ReadDir;
            foreach (string path in SandboxPaths.RuntimeAndApp(commandLine).Concat(SandboxPaths.Libraries))
            {
                Landlock.AllowBeneath(ruleset, path, read | Landlock.Execute);
            }

            foreach (string path in SandboxPaths.System(policy.ChildProcesses).Concat(policy.ReadablePaths))
            {
                Landlock.AllowBeneath(ruleset, path, read | (policy.ChildProcesses ? Landlock.Execute : 0));
            }

            Landlock.AllowBeneath(ruleset, "/dev/null", Landlock.ReadFile | Landlock.WriteFile);
            foreach (string path in policy.WritablePaths)
            {
                Landlock.AllowBeneath(ruleset, path, allFiles & ~(Landlock.MakeChar | Landlock.MakeBlock | Landlock.IoctlDev | Landlock.Execute));
            }

            if (spillDirectory is not null)
            {
                // Its files' names are unguessable and the directory cannot be listed: a worker reaches only the files it is told of.
                Landlock.AllowBeneath(ruleset, spillDirectory, allFiles & (Landlock.ReadFile | Landlock.WriteFile | Landlock.MakeReg | Landlock.RemoveFile | Landlock.Truncate));
            }
        }

        if (hideOtherProcesses)
        {
            foreach (string path in SandboxPaths.EverythingButOtherProcesses())
            {
                Landlock.AllowBeneath(ruleset, path, Landlock.ReadFile | Landlock.ReadDir);
            }
        }

        Landlock.RestrictSelf(ruleset);
    }

    private static void Execute(string program, string[] arguments)
    {
        string[] environment = [.. Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>().Select(e => $"{e.Key}={e.Value}")];
        nint[] argv = Strings(arguments);
        nint[] envp = Strings(environment);
        byte[] path = Encoding.UTF8.GetBytes(program + "\0");
        fixed (byte* pathPointer = path)
        fixed (nint* argvPointer = argv)
        fixed (nint* envpPointer = envp)
        {
            _ = ExecuteProgram(pathPointer, argvPointer, envpPointer);
        }

        // Only reached on failure; the strings are left to the process's end, which follows.
        static nint[] Strings(string[] values) => [.. values.Select(Marshal.StringToCoTaskMemUTF8), 0];
    }

    [LibraryImport("libc", EntryPoint = "execve", SetLastError = true)]
    private static partial int ExecuteProgram(byte* path, nint* argv, nint* envp);
}
