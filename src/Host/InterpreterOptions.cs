using Microsoft.Extensions.Logging;

namespace ProcIsolates;

/// <summary>How to start and run an interpreter.</summary>
public sealed class InterpreterOptions
{
    private Isolation isolation = Isolation.Process;

    /// <summary>
    /// How the interpreter is isolated: <see cref="ProcIsolates.Isolation.Process"/> (the default) for a worker process of
    /// its own; <see cref="ProcIsolates.Isolation.AssemblyLoadContext"/> or <see cref="ProcIsolates.Isolation.Thread"/> to
    /// run in this process. The options that shape a worker process (<see cref="MemoryLimit"/>,
    /// <see cref="Environment"/>, <see cref="SecretEnvironmentVariables"/>, <see cref="WorkingDirectory"/>, the
    /// garbage collector and JIT knobs) need <see cref="ProcIsolates.Isolation.Process"/>; the others apply to all levels.
    /// </summary>
    public Isolation Isolation { get => isolation; init => isolation = value; }

    /// <summary>
    /// What the worker may do, enforced by the operating system: <see cref="SandboxOptions.None"/> (the default) for
    /// anything its user may, <see cref="SandboxOptions.Strict"/> for no network, no child processes, no files beyond
    /// the runtime, the app and a private temp directory, and no access to other processes. A restriction this machine
    /// cannot enforce fails <see cref="Interpreters.CreateAsync"/> with <see cref="SandboxNotSupportedException"/>.
    /// Needs <see cref="ProcIsolates.Isolation.Process"/>.
    /// </summary>
    public SandboxOptions Sandbox { get; init; } = SandboxOptions.None;

    /// <summary>
    /// How much the worker may make the host hold for it (unsent channel data, channels created) before it is killed
    /// and reported crashed: <see cref="WorkerBudgets.Default"/> unless set.
    /// </summary>
    public WorkerBudgets Budgets { get; init; } = WorkerBudgets.Default;

    /// <summary>How long the worker may take to start and connect; 30 seconds by default.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long <see cref="Interpreter.CloseAsync"/> waits for the worker to exit by itself before killing it; 2 seconds by default.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a cancelled exec or call may take to stop by itself (code sees the cancellation through its token).
    /// Past it the worker is killed and replaced by a fresh one with the same id; 2 seconds by default.
    /// </summary>
    public TimeSpan CancellationGracePeriod { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Where the interpreter logs (category <c>ProcIsolates.Interpreter</c>, every message with its interpreter id): start,
    /// crash, recycling, close, and each line its worker writes to standard error. Without one, the worker's standard
    /// error goes to the host's.
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>
    /// The default time limit of every exec and call; <see langword="null"/> (the default) for none. A call past it
    /// fails with <see cref="TimeoutException"/>, after the worker had <see cref="CancellationGracePeriod"/> to stop it
    /// through its token; a worker that does not is killed and replaced.
    /// </summary>
    public TimeSpan? CallTimeout { get; init; }

    /// <summary>
    /// The most memory the worker's garbage-collected heap may use, in bytes (the runtime's <c>GCHeapHardLimit</c>);
    /// <see langword="null"/> for no limit. Past it, allocations in the worker throw <see cref="OutOfMemoryException"/>,
    /// which reaches the host as <see cref="ExecutionFailedException"/> (or, if the worker cannot recover,
    /// <see cref="InterpreterCrashedException"/>). At least 32 MiB.
    /// </summary>
    public long? MemoryLimit { get; init; }

    /// <summary>
    /// Environment variables to set in the worker (a <see langword="null"/> value removes the variable). The worker
    /// otherwise inherits the host's environment, except <see cref="SecretEnvironmentVariables"/>.
    /// </summary>
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }

    /// <summary>
    /// Names of the host's environment variables that the worker must not inherit (tokens, passwords), unless
    /// <see cref="Environment"/> sets them explicitly.
    /// </summary>
    public IReadOnlyCollection<string>? SecretEnvironmentVariables { get; init; }

    /// <summary>The worker's working directory; by default the host's. It must exist.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Whether the worker uses the server garbage collector; <see langword="null"/> for the app's setting.</summary>
    public bool? ServerGarbageCollection { get; init; }

    /// <summary>Whether the worker uses the concurrent (background) garbage collector; <see langword="null"/> for the app's setting.</summary>
    public bool? ConcurrentGarbageCollection { get; init; }

    /// <summary>Whether the worker's JIT uses tiered compilation; <see langword="null"/> for the app's setting.</summary>
    public bool? TieredCompilation { get; init; }

    /// <summary>
    /// Whether the worker's runtime opens its diagnostics endpoints (the debugger, profilers, <c>dotnet-trace</c> and
    /// <c>dotnet-counters</c>, through a <c>dotnet-diagnostic-*</c> socket and debugger pipes in the temp directory).
    /// Off by default (<c>DOTNET_EnableDiagnostics=0</c>): a killed worker cannot remove them, and untrusted code
    /// should not be reachable through them. Turn it on to debug or trace worker code.
    /// </summary>
    public bool EnableDiagnostics { get; init; }

    /// <summary>
    /// The size in bytes from which the worker's garbage collector puts an object on the large object heap (the
    /// runtime's <c>GCLOHThreshold</c>; at least 85,000, the runtime's own default). The runtime caps it a little under
    /// 4 MiB (its GC region size), so a larger value acts as that. <see langword="null"/> (the default) means: the
    /// threshold the worker's environment sets, if <see cref="Environment"/> or the host's environment (unless kept
    /// secret) has <c>DOTNET_GCLOHThreshold</c> or <c>COMPlus_GCLOHThreshold</c>; else the app's
    /// <c>System.GC.LOHThreshold</c> (runtimeconfig), if it has one; else 4 MiB. This option, when set, wins over both.
    /// </summary>
    /// <remarks>
    /// Why 4 MiB: a worker that reads large channel items gets a fresh array for each. On the large object heap every
    /// such array is new memory, page-faulted in and then collected by a full collection; below the threshold it is a
    /// young object whose memory is reused. Reading 1 MiB items, that takes the reader's CPU from about 1.2 ms to
    /// 0.5 ms per item (docs/benchmarks.md). The cost: large objects that live on are copied when they are promoted.
    /// The worker gets the threshold as <c>DOTNET_GCLOHThreshold</c>, which processes it starts inherit.
    /// </remarks>
    public int? LargeObjectHeapThreshold { get; init; }

    /// <summary>
    /// The largest message between host and worker, in bytes: 64 MiB by default, at least 64 KiB. A call or exec whose
    /// arguments, variables and code are larger fails with <see cref="MessageTooLargeException"/> before anything is
    /// sent; a worker that sends a larger message (a result, output) is killed, and the call fails with
    /// <see cref="InterpreterCrashedException"/> saying why. Channel items have their own limit (64 MiB each).
    /// </summary>
    public int MaxMessageSize { get; init; } = DefaultMaxMessageSize;

    internal const int DefaultMaxMessageSize = 64 * 1024 * 1024;

    internal const int MinimumMaxMessageSize = 64 * 1024;

    /// <summary>The worker's large object threshold when neither the options nor the app set one.</summary>
    internal const int DefaultLargeObjectHeapThreshold = 4 * 1024 * 1024;

    /// <summary>The runtime's own large object threshold, and the smallest it accepts.</summary>
    internal const int MinimumLargeObjectHeapThreshold = 85_000;

    private const string LargeObjectHeapThresholdVariable = "DOTNET_GCLOHThreshold";

    private const string DiagnosticsVariable = "DOTNET_EnableDiagnostics";

    private const string LegacyLargeObjectHeapThresholdVariable = "COMPlus_GCLOHThreshold";

    internal static InterpreterOptions Default { get; } = new();

    /// <summary>A copy of these options with another isolation level.</summary>
    internal InterpreterOptions WithIsolation(Isolation level)
    {
        var copy = (InterpreterOptions)MemberwiseClone();
        copy.isolation = level;
        return copy;
    }

    /// <summary>The smallest <see cref="MemoryLimit"/> a .NET worker can start with.</summary>
    internal const long MinimumMemoryLimit = 32L * 1024 * 1024;

    /// <summary>
    /// Whether these options change how the worker process is started, so that a spare started with defaults will not
    /// do. A large object threshold equal to the one spares get does not.
    /// </summary>
    internal bool ShapesWorkerProcess => !Sandbox.IsNone || ShapesWorkerProcessBesidesSandbox;

    /// <summary>
    /// The sandbox of the spares that can serve these options (<see cref="SandboxOptions.None"/> for the default
    /// ones), or <see langword="null"/> when these options shape the worker in a way no spare is started with.
    /// </summary>
    internal SandboxOptions? SpareKind => ShapesWorkerProcessBesidesSandbox ? null : Sandbox;

    private bool ShapesWorkerProcessBesidesSandbox =>
        SetsProcessOptionsBesidesSandboxAndThreshold || MaxMessageSize != DefaultMaxMessageSize
        || (LargeObjectHeapThreshold is not null && LargeObjectHeapThreshold != Default.WorkerLargeObjectHeapThreshold());

    /// <summary>Whether options that only a process can have are set (the message size, by contrast, is ignored in-process: nothing crosses a pipe).</summary>
    private bool SetsProcessOptions => SetsProcessOptionsOtherThanThreshold || LargeObjectHeapThreshold is not null;

    private bool SetsProcessOptionsOtherThanThreshold => !Sandbox.IsNone || SetsProcessOptionsBesidesSandboxAndThreshold;

    private bool SetsProcessOptionsBesidesSandboxAndThreshold =>
        MemoryLimit is not null || Environment is { Count: > 0 } || SecretEnvironmentVariables is { Count: > 0 } || WorkingDirectory is not null
        || ServerGarbageCollection is not null || ConcurrentGarbageCollection is not null || TieredCompilation is not null || EnableDiagnostics;

    /// <summary>The environment variables the worker is started with, on top of (or removed from) the host's.</summary>
    internal IEnumerable<KeyValuePair<string, string?>> WorkerEnvironment()
    {
        foreach (string secret in SecretEnvironmentVariables ?? [])
        {
            if (Environment is null || !Environment.ContainsKey(secret))
            {
                yield return new(secret, null);
            }
        }

        foreach (KeyValuePair<string, string?> variable in Environment ?? new Dictionary<string, string?>())
        {
            yield return variable;
        }

        // The runtime reads its knobs from DOTNET_ variables; hexadecimal for GCHeapHardLimit.
        if (MemoryLimit is { } limit)
        {
            yield return new("DOTNET_GCHeapHardLimit", limit.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        }

        if (ServerGarbageCollection is { } server)
        {
            yield return new("DOTNET_gcServer", server ? "1" : "0");
        }

        if (ConcurrentGarbageCollection is { } concurrent)
        {
            yield return new("DOTNET_gcConcurrent", concurrent ? "1" : "0");
        }

        if (TieredCompilation is { } tiered)
        {
            yield return new("DOTNET_TieredCompilation", tiered ? "1" : "0");
        }

        if (!EnableDiagnostics && Environment?.ContainsKey(DiagnosticsVariable) != true)
        {
            yield return new(DiagnosticsVariable, "0");
        }

        if (WorkerLargeObjectHeapThreshold() is { } threshold)
        {
            yield return new(LargeObjectHeapThresholdVariable, threshold.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>
    /// The large object threshold to give the worker, or <see langword="null"/> when its environment decides (see
    /// <see cref="LargeObjectHeapThreshold"/>). The app's runtimeconfig value is passed on explicitly: a worker started
    /// with the worker's own runtimeconfig (no deps file) would not read the app's.
    /// </summary>
    private long? WorkerLargeObjectHeapThreshold()
    {
        if (LargeObjectHeapThreshold is { } chosen)
        {
            return chosen;
        }

        if (EnvironmentDecides(LargeObjectHeapThresholdVariable) || EnvironmentDecides(LegacyLargeObjectHeapThresholdVariable))
        {
            return null;
        }

        if (AppContext.GetData("System.GC.LOHThreshold") is { } configured)
        {
            return ParseRuntimeNumber(Convert.ToString(configured, System.Globalization.CultureInfo.InvariantCulture)) ?? DefaultLargeObjectHeapThreshold;
        }

        return DefaultLargeObjectHeapThreshold;
    }

    /// <summary>
    /// Whether the worker's environment settles this variable: <see cref="Environment"/> names it (a value sets it,
    /// <see langword="null"/> removes it), or the host has it and does not keep it secret.
    /// </summary>
    private bool EnvironmentDecides(string name) =>
        Environment?.Keys.Contains(name, EnvironmentNames) == true
        || (System.Environment.GetEnvironmentVariable(name) is not null && SecretEnvironmentVariables?.Contains(name, EnvironmentNames) != true);

    /// <summary>How the OS compares environment variable names: without case on Windows.</summary>
    private static StringComparer EnvironmentNames => OperatingSystem.IsWindows() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;

    /// <summary>
    /// Reads a runtimeconfig number as the runtime does (C's <c>strtoull</c> with base 0): 0x-prefixed hexadecimal,
    /// 0-prefixed octal, or decimal, around whitespace. <see langword="null"/> for anything else.
    /// </summary>
    private static long? ParseRuntimeNumber(string? text)
    {
        text = text?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        try
        {
            return text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? Convert.ToInt64(text[2..], 16)
                : text.Length > 1 && text[0] == '0' ? Convert.ToInt64(text[1..], 8)
                : long.Parse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is FormatException or OverflowException or ArgumentException)
        {
            return null;
        }
    }

    internal void Validate()
    {
        if (!Enum.IsDefined(Isolation))
        {
            throw new ArgumentOutOfRangeException(nameof(Isolation), Isolation, "InterpreterOptions.Isolation must be Process, AssemblyLoadContext or Thread.");
        }

        ArgumentNullException.ThrowIfNull(Sandbox, nameof(Sandbox));
        if (Isolation != Isolation.Process && !Sandbox.IsNone)
        {
            throw new ArgumentException(
                $"InterpreterOptions.Isolation is {Isolation}, which runs code in this process, where no sandbox can confine it: InterpreterOptions.Sandbox needs Isolation.Process.",
                nameof(Sandbox));
        }

        Sandbox.Validate();
        Budgets.Validate();
        if (Isolation != Isolation.Process && SetsProcessOptions)
        {
            throw new ArgumentException(
                $"InterpreterOptions.Isolation is {Isolation}, which runs code in this process: MemoryLimit, Environment, SecretEnvironmentVariables, WorkingDirectory, EnableDiagnostics and the garbage collector and JIT options need Isolation.Process.",
                nameof(Isolation));
        }

        Check(StartTimeout, nameof(StartTimeout));
        Check(ShutdownTimeout, nameof(ShutdownTimeout));
        Check(CancellationGracePeriod, nameof(CancellationGracePeriod));
        if (CallTimeout is { } callTimeout && callTimeout <= TimeSpan.Zero && callTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(CallTimeout), callTimeout, "InterpreterOptions.CallTimeout must be positive (or null for none).");
        }

        if (MemoryLimit is { } memory && memory < MinimumMemoryLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(MemoryLimit), memory, $"InterpreterOptions.MemoryLimit must be at least {MinimumMemoryLimit} bytes (32 MiB); a .NET worker cannot start with less.");
        }

        if (LargeObjectHeapThreshold is { } threshold && threshold < MinimumLargeObjectHeapThreshold)
        {
            throw new ArgumentOutOfRangeException(nameof(LargeObjectHeapThreshold), threshold, $"InterpreterOptions.LargeObjectHeapThreshold must be at least {MinimumLargeObjectHeapThreshold} bytes, the runtime's own default.");
        }

        if (MaxMessageSize < MinimumMaxMessageSize)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxMessageSize), MaxMessageSize, $"InterpreterOptions.MaxMessageSize must be at least {MinimumMaxMessageSize} bytes (64 KiB).");
        }

        foreach (string name in (Environment?.Keys ?? []).Concat(SecretEnvironmentVariables ?? []))
        {
            if (string.IsNullOrEmpty(name) || name.Contains('=', StringComparison.Ordinal) || name.Contains('\0', StringComparison.Ordinal))
            {
                throw new ArgumentException($"'{name}' is not a valid environment variable name (InterpreterOptions.Environment / SecretEnvironmentVariables).", nameof(Environment));
            }
        }

        if (WorkingDirectory is not null && !Directory.Exists(WorkingDirectory))
        {
            throw new DirectoryNotFoundException($"InterpreterOptions.WorkingDirectory '{WorkingDirectory}' does not exist.");
        }

        static void Check(TimeSpan value, string name)
        {
            if (value < TimeSpan.Zero && value != Timeout.InfiniteTimeSpan)
            {
                throw new ArgumentOutOfRangeException(name, value, $"InterpreterOptions.{name} must be zero or more (or Timeout.InfiniteTimeSpan).");
            }
        }
    }
}
