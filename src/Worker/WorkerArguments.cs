using System.Globalization;
using ProcIsolates.Worker.Sandbox;

namespace ProcIsolates.Worker;

/// <summary>
/// The worker's command line: <c>--pipe &lt;name&gt; --parent &lt;host pid&gt;</c>, optionally
/// <c>--spill-dir &lt;directory&gt; --spill-tag &lt;tag&gt;</c> and <c>--sandbox &lt;policy&gt;</c>.
/// </summary>
/// <param name="PipeName">The pipe to connect to.</param>
/// <param name="ParentProcessId">The host's process id.</param>
internal sealed record WorkerArguments(string PipeName, int ParentProcessId)
{
    /// <summary>The host's directory for large channel items, or <see langword="null"/> to send them whole.</summary>
    public string? SpillDirectory { get; init; }

    /// <summary>The name prefix of this worker's spill files.</summary>
    public string? SpillTag { get; init; }

    /// <summary>What the worker may do, when it runs in a sandbox (<see cref="Sandbox.SandboxPolicy.Encode"/>).</summary>
    public SandboxPolicy? Sandbox { get; init; }

    /// <summary>Whether the worker has confined itself already (the first step of <see cref="Sandbox.WorkerSandbox"/> is done).</summary>
    public bool Confined { get; init; }

    /// <summary>Formats the arguments for <see cref="System.Diagnostics.ProcessStartInfo.ArgumentList"/>.</summary>
    /// <returns>The arguments.</returns>
    public IEnumerable<string> ToArgumentList()
    {
        string[] arguments = ["--pipe", PipeName, "--parent", ParentProcessId.ToString(CultureInfo.InvariantCulture)];
        if (SpillDirectory is not null && SpillTag is not null)
        {
            arguments = [.. arguments, "--spill-dir", SpillDirectory, "--spill-tag", SpillTag];
        }

        return Sandbox is null ? arguments : [.. arguments, "--sandbox", Sandbox.Encode()];
    }

    /// <summary>Parses a worker's command line.</summary>
    /// <param name="args">The arguments.</param>
    /// <param name="parsed">The parsed arguments.</param>
    /// <param name="error">Why they are invalid.</param>
    /// <returns>Whether they were valid.</returns>
    public static bool TryParse(IReadOnlyList<string> args, out WorkerArguments? parsed, out string? error)
    {
        ArgumentNullException.ThrowIfNull(args);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Count; i += 2)
        {
            if (i + 1 >= args.Count || !args[i].StartsWith("--", StringComparison.Ordinal))
            {
                (parsed, error) = (null, $"unexpected argument '{args[i]}'");
                return false;
            }

            values[args[i]] = args[i + 1];
        }

        if (!values.TryGetValue("--pipe", out string? pipe)
            || !values.TryGetValue("--parent", out string? parentText) || !int.TryParse(parentText, CultureInfo.InvariantCulture, out int parent))
        {
            (parsed, error) = (null, "usage: ProcIsolates.Worker --pipe <name> --parent <host pid>, with the handshake token on standard input");
            return false;
        }

        SandboxPolicy? sandbox = null;
        if (values.TryGetValue("--sandbox", out string? policy) && (sandbox = SandboxPolicy.Decode(policy)) is null)
        {
            (parsed, error) = (null, "malformed --sandbox policy");
            return false;
        }

        (parsed, error) = (new WorkerArguments(pipe, parent)
        {
            SpillDirectory = values.GetValueOrDefault("--spill-dir"),
            SpillTag = values.GetValueOrDefault("--spill-tag"),
            Sandbox = sandbox,
            Confined = values.ContainsKey(WorkerSandbox.ConfinedArgument),
        }, null);
        return true;
    }
}
