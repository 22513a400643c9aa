using ProcIsolates.Sandbox;

namespace ProcIsolates;

/// <summary>
/// What a worker process may do, enforced by the operating system (the counterpart of Python's
/// <c>run_in_subinterp_with_config(allow_fork=, allow_exec=, allow_threads=, …)</c>). <see cref="None"/> (the default)
/// restricts nothing; <see cref="Strict"/> takes away the network, child processes, the file system beyond the runtime,
/// the app and a private temp directory, and any access to other processes. Start from either and change what you
/// need with <c>with</c>. A restriction this machine cannot enforce fails <see cref="Interpreters.CreateAsync"/> with
/// <see cref="SandboxNotSupportedException"/>; <see cref="IsSupported"/> tells in advance. Only
/// <see cref="Isolation.Process"/> interpreters can be sandboxed.
/// </summary>
/// <remarks>
/// On Linux: a seccomp filter (network, child processes), Landlock (files, signals, tracing), and a cgroup per worker
/// (threads, CPU, memory). On Windows: a job object per worker (child processes, CPU, memory; untested). On macOS:
/// nothing yet. See docs/isolation.md for what each blocks, and what no sandbox here covers.
/// </remarks>
public sealed record SandboxOptions
{
    /// <summary>No restriction: the worker may do whatever its user may. The default.</summary>
    public static SandboxOptions None { get; } = new();

    /// <summary>
    /// No IP networking, no child processes, files readable only where the runtime, the app and its dependencies live
    /// and writable only in the worker's private temp directory, and no signalling, tracing, or reading the memory or
    /// environment of the host or of other workers. No limits on threads, CPU or memory (add them with <c>with</c>).
    /// </summary>
    public static SandboxOptions Strict { get; } = new() { Network = false, ChildProcesses = false, FileSystem = false, OtherProcesses = false };

    /// <summary>Whether the worker may use the network: with <see langword="false"/> it may open only Unix domain sockets (no TCP, UDP or raw sockets). Like <c>allow_*</c> for sockets.</summary>
    public bool Network { get; init; } = true;

    /// <summary>Whether the worker may start programs (Python's <c>allow_fork</c> and <c>allow_exec</c>); with <see langword="false"/>, <c>Process.Start</c> throws <see cref="System.ComponentModel.Win32Exception"/>.</summary>
    public bool ChildProcesses { get; init; } = true;

    /// <summary>
    /// Whether the worker may use the whole file system as its user. With <see langword="false"/> it may read only
    /// where the runtime, the app and its dependencies live (plus the system files a .NET process needs, and
    /// <see cref="ReadablePaths"/>), and write only in its own temp directory (<see cref="Path.GetTempPath"/> in the
    /// worker, deleted when it ends) and <see cref="WritablePaths"/>.
    /// </summary>
    public bool FileSystem { get; init; } = true;

    /// <summary>Whether the worker may signal, trace, or read the memory or environment of processes outside its own sandbox (the host, other workers).</summary>
    public bool OtherProcesses { get; init; } = true;

    /// <summary>The most threads the worker may have, the runtime's own included (Python's <c>allow_threads</c>, as a number); <see langword="null"/> for no limit. At least 32.</summary>
    public int? MaxThreads { get; init; }

    /// <summary>The most CPU time the worker may use, in cores (0.5: half of one core's time); <see langword="null"/> for no limit.</summary>
    public double? CpuLimit { get; init; }

    /// <summary>
    /// The most memory the whole worker process may use, in bytes, native memory included (unlike
    /// <see cref="InterpreterOptions.MemoryLimit"/>, which caps only the GC heap); <see langword="null"/> for no limit. A worker
    /// that goes past it is killed and reported crashed. At least 64 MiB.
    /// </summary>
    public long? MemoryLimit { get; init; }

    /// <summary>Files and directories the worker may read besides the runtime and the app, when <see cref="FileSystem"/> is <see langword="false"/>.</summary>
    public IReadOnlyList<string> ReadablePaths { get; init; } = [];

    /// <summary>Files and directories the worker may write, create and delete in, besides its own temp directory, when <see cref="FileSystem"/> is <see langword="false"/>.</summary>
    public IReadOnlyList<string> WritablePaths { get; init; } = [];

    internal const int MinimumMaxThreads = 32;

    internal const long MinimumMemoryLimit = 64L * 1024 * 1024;

    /// <summary>Whether this restricts nothing.</summary>
    internal bool IsNone => Equals(None);

    /// <summary>Whether the worker's own restrictions (seccomp, Landlock) are needed, as opposed to limits only.</summary>
    internal bool ConfinesWorker => !Network || !ChildProcesses || !FileSystem || !OtherProcesses;

    /// <summary>Whether a limit on threads, CPU or memory is asked for.</summary>
    internal bool HasLimits => MaxThreads is not null || CpuLimit is not null || MemoryLimit is not null;

    /// <summary>Whether every restriction asked for can be enforced on this machine, by this user.</summary>
    /// <param name="reason">When not: the first restriction that cannot, and why; otherwise empty.</param>
    /// <returns>Whether <see cref="Interpreters.CreateAsync"/> can start a worker with this sandbox.</returns>
    public bool IsSupported(out string reason)
    {
        SandboxNotSupportedException? problem = SandboxSupport.Check(this);
        reason = problem?.Message ?? "";
        return problem is null;
    }

    /// <inheritdoc/>
    public bool Equals(SandboxOptions? other) =>
        other is not null && Network == other.Network && ChildProcesses == other.ChildProcesses && FileSystem == other.FileSystem
        && OtherProcesses == other.OtherProcesses && MaxThreads == other.MaxThreads && Nullable.Equals(CpuLimit, other.CpuLimit)
        && MemoryLimit == other.MemoryLimit && ReadablePaths.SequenceEqual(other.ReadablePaths) && WritablePaths.SequenceEqual(other.WritablePaths);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Network, ChildProcesses, FileSystem, OtherProcesses, MaxThreads, CpuLimit, MemoryLimit, ReadablePaths.Count + (WritablePaths.Count << 16));

    /// <summary>Throws for values no sandbox can take.</summary>
    internal void Validate()
    {
        if (MaxThreads is { } threads && threads < MinimumMaxThreads)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxThreads), threads, $"SandboxOptions.MaxThreads must be at least {MinimumMaxThreads}: the .NET runtime itself needs a few dozen threads.");
        }

        if (CpuLimit is { } cpu && (!double.IsFinite(cpu) || cpu < 0.01))
        {
            throw new ArgumentOutOfRangeException(nameof(CpuLimit), cpu, "SandboxOptions.CpuLimit must be at least 0.01 (cores).");
        }

        if (MemoryLimit is { } memory && memory < MinimumMemoryLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(MemoryLimit), memory, $"SandboxOptions.MemoryLimit must be at least {MinimumMemoryLimit} bytes (64 MiB); a .NET worker cannot start with less.");
        }

        if (FileSystem && (ReadablePaths.Count > 0 || WritablePaths.Count > 0))
        {
            throw new ArgumentException("SandboxOptions.ReadablePaths and WritablePaths only apply with FileSystem = false (the whole file system is allowed otherwise).", nameof(FileSystem));
        }

        foreach (string path in ReadablePaths.Concat(WritablePaths))
        {
            if (string.IsNullOrEmpty(path) || !Path.IsPathFullyQualified(path) || path.Contains('\n', StringComparison.Ordinal) || path.Contains('\0', StringComparison.Ordinal))
            {
                throw new ArgumentException($"'{path}' is not a full path (SandboxOptions.ReadablePaths / WritablePaths).", nameof(ReadablePaths));
            }
        }
    }
}
