using System.Diagnostics;

namespace ProcIsolates.Tests.Sandbox;

/// <summary>
/// The strict sandbox from a host that is not root, as users run it: ProcIsolates.TestHost runs as a throw-away uid
/// (through <c>setpriv</c> when the tests run as root, else as the tests' own user) and tries each escape from a
/// sandboxed worker; limits that need a cgroup of its own are refused up front, never silently dropped.
/// </summary>
public sealed class UnprivilegedHostTests
{
    private const int ThrowAwayId = 61234;

    [Fact]
    public async Task The_strict_sandbox_confines_a_worker_of_an_unprivileged_host()
    {
        Dictionary<string, string> outcomes = await RunProbeAsync();

        Assert.NotEqual("0", outcomes["uid"]);
        Assert.Equal("yes", outcomes["strict supported"]);
        Assert.Equal("SocketException", outcomes["tcp socket"]);
        Assert.Equal("Win32Exception", outcomes["start a shell"]);
        Assert.Equal("UnauthorizedAccessException", outcomes["read outside"]);
        Assert.Equal("UnauthorizedAccessException", outcomes["write outside"]);
        Assert.Equal("no", outcomes["escaped file exists"]);
        Assert.Equal("UnauthorizedAccessException", outcomes["read host environ"]);
        Assert.Equal("Win32Exception", outcomes["signal host"]);
        Assert.Equal("succeeded", outcomes["write own temp"]);
        Assert.Equal("1048576 1048576", outcomes["channel item"]);

        // No cgroup of its own here (nothing is delegated to the throw-away uid): the limit is refused with the reason.
        if (outcomes["memory limit supported"] == "yes")
        {
            Assert.Equal("created", outcomes["memory limit create"]);
        }
        else
        {
            Assert.Contains("MemoryLimit", outcomes["memory limit supported"], StringComparison.Ordinal);
            Assert.Equal("SandboxNotSupportedException MemoryLimit", outcomes["memory limit create"]);
            Assert.Equal("SandboxNotSupportedException MaxThreads", outcomes["threads limit create"]);
            Assert.Equal("SandboxNotSupportedException CpuLimit", outcomes["cpu limit create"]);
        }
    }

    private static async Task<Dictionary<string, string>> RunProbeAsync()
    {
        bool root = Environment.UserName == "root" || File.ReadLines("/proc/self/status").Any(l => l.StartsWith("Uid:\t0\t", StringComparison.Ordinal));
        string dotnet = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        var start = new ProcessStartInfo(root ? "setpriv" : dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (root)
        {
            foreach (string argument in (string[])[$"--reuid={ThrowAwayId}", $"--regid={ThrowAwayId}", "--clear-groups", dotnet])
            {
                start.ArgumentList.Add(argument);
            }
        }

        foreach (string argument in (string[])[
            "exec",
            "--runtimeconfig", Path.Combine(AppContext.BaseDirectory, "ProcIsolates.Tests.runtimeconfig.json"),
            "--depsfile", Path.Combine(AppContext.BaseDirectory, "ProcIsolates.Tests.deps.json"),
            Path.Combine(AppContext.BaseDirectory, "ProcIsolates.TestHost.dll"),
            "sandbox"])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["HOME"] = Path.GetTempPath();
        using var probe = Process.Start(start)!;
        Task<string> errors = probe.StandardError.ReadToEndAsync();
        string output = await probe.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(120));
        await probe.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(probe.ExitCode == 0, $"The probe exited with {probe.ExitCode}: {output} {await errors}");
        var outcomes = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(": ", 2))
            .Where(parts => parts.Length == 2)
            .ToDictionary(parts => parts[0], parts => parts[1].TrimEnd('\r'));
        Assert.Equal("yes", outcomes.GetValueOrDefault("done"));
        return outcomes;
    }
}
