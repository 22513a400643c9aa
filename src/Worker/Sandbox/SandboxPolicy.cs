using System.Text;

namespace ProcIsolates.Worker.Sandbox;

/// <summary>
/// What a sandboxed worker may do, as the host sends it on the worker's command line (<c>--sandbox</c>): the
/// restrictions the worker enforces on itself (seccomp, Landlock). Limits on threads, CPU and memory are not here:
/// the host enforces them from outside, with a cgroup.
/// </summary>
internal sealed record SandboxPolicy
{
    /// <summary>Whether the worker may open sockets other than Unix domain sockets.</summary>
    public bool Network { get; init; } = true;

    /// <summary>Whether the worker may start programs (fork, exec).</summary>
    public bool ChildProcesses { get; init; } = true;

    /// <summary>Whether the worker may use the whole file system as its user; otherwise only the runtime, the app and the paths below.</summary>
    public bool FileSystem { get; init; } = true;

    /// <summary>Whether the worker may signal, trace or read processes outside its sandbox.</summary>
    public bool OtherProcesses { get; init; } = true;

    /// <summary>Files and directories the worker may read besides the runtime and the app.</summary>
    public IReadOnlyList<string> ReadablePaths { get; init; } = [];

    /// <summary>Files and directories the worker may write (and read), its private temp directory first.</summary>
    public IReadOnlyList<string> WritablePaths { get; init; } = [];

    /// <summary>Whether the policy needs a Landlock domain (files, signals, tracing, or TCP as a second layer).</summary>
    public bool NeedsLandlock => !FileSystem || !OtherProcesses || !Network;

    /// <summary>Whether the policy needs a seccomp filter.</summary>
    public bool NeedsSeccomp => !Network || !ChildProcesses;

    /// <summary>Encodes the policy as one command-line argument: base64 of UTF-8 lines, flags first, then one path a line.</summary>
    /// <returns>The argument.</returns>
    public string Encode()
    {
        var text = new StringBuilder();
        text.Append(Flag(Network)).Append(Flag(ChildProcesses)).Append(Flag(FileSystem)).Append(Flag(OtherProcesses)).Append('\n');
        foreach (string path in ReadablePaths)
        {
            text.Append("r:").Append(path).Append('\n');
        }

        foreach (string path in WritablePaths)
        {
            text.Append("w:").Append(path).Append('\n');
        }

        return Convert.ToBase64String(Encoding.UTF8.GetBytes(text.ToString()));

        static char Flag(bool allowed) => allowed ? '1' : '0';
    }

    /// <summary>Decodes <see cref="Encode"/>'s argument.</summary>
    /// <param name="argument">The argument.</param>
    /// <returns>The policy, or <see langword="null"/> if the argument is malformed.</returns>
    public static SandboxPolicy? Decode(string argument)
    {
        string text;
        try
        {
            text = Encoding.UTF8.GetString(Convert.FromBase64String(argument));
        }
        catch (FormatException)
        {
            return null;
        }

        string[] lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0 || lines[0].Length != 4 || lines[0].Any(c => c is not ('0' or '1')))
        {
            return null;
        }

        var readable = new List<string>();
        var writable = new List<string>();
        foreach (string line in lines.Skip(1))
        {
            if (line.StartsWith("r:", StringComparison.Ordinal))
            {
                readable.Add(line[2..]);
            }
            else if (line.StartsWith("w:", StringComparison.Ordinal))
            {
                writable.Add(line[2..]);
            }
            else
            {
                return null;
            }
        }

        return new SandboxPolicy
        {
            Network = lines[0][0] == '1',
            ChildProcesses = lines[0][1] == '1',
            FileSystem = lines[0][2] == '1',
            OtherProcesses = lines[0][3] == '1',
            ReadablePaths = readable,
            WritablePaths = writable,
        };
    }
}
