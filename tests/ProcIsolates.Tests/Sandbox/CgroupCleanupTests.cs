namespace ProcIsolates.Tests.Sandbox;

/// <summary>A sandboxed worker's cgroups go with it, however it ends (a killed host: see HostDeathTests).</summary>
public sealed class CgroupCleanupTests
{
    private static readonly SandboxOptions Limited = SandboxOptions.Strict with { MaxThreads = 200, MemoryLimit = 512L << 20 };

    [Theory]
    [InlineData("close")]
    [InlineData("crash")]
    public async Task A_sandboxed_workers_cgroups_are_removed_when_it_ends(string ending)
    {
        if (!OperatingSystem.IsLinux() || !CgroupPaths.CanCreate())
        {
            return; // Needs root or a delegated cgroup; UnprivilegedHostTests covers the refusal.
        }

        Interpreter jail = await Interpreters.CreateAsync(new InterpreterOptions { Sandbox = Limited }).WaitAsync(TimeSpan.FromSeconds(60));
        string[] cgroups = CgroupPaths.Of(jail.ProcessId);
        Assert.NotEmpty(cgroups);
        Assert.All(cgroups, directory => Assert.Contains(jail.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), File.ReadAllLines(Path.Join(directory, "cgroup.procs"))));

        if (ending == "crash")
        {
            await Assert.ThrowsAsync<InterpreterCrashedException>(() => jail.CallAsync(() => TestMethods.FailFast("ends in its cgroup")));
        }

        await jail.CloseAsync();
        await LifecycleTests.WaitUntilAsync(() => cgroups.All(directory => !Directory.Exists(directory)));
    }
}
