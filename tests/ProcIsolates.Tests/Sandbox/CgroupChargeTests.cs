using System.Globalization;

namespace ProcIsolates.Tests.Sandbox;

/// <summary>
/// A worker's memory is charged to its own cgroup from its first byte: memory charged before a process joins a cgroup
/// stays charged where it was, so a worker moved in after it started would use more than its MemoryLimit says.
/// </summary>
public sealed class CgroupChargeTests
{
    [Fact]
    public async Task All_the_anonymous_memory_of_a_worker_is_charged_to_its_memory_cgroup()
    {
        if (!OperatingSystem.IsLinux() || !CgroupPaths.CanCreate())
        {
            return; // Needs root or a delegated cgroup; UnprivilegedHostTests covers the refusal.
        }

        for (int round = 0; round < 3; round++)
        {
            await using Interpreter jail = await Interpreters.CreateAsync(new InterpreterOptions { Sandbox = SandboxOptions.None with { MemoryLimit = 512L << 20 } })
                .WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(3, await jail.CallAsync(() => TestMethods.Add(1, 2)));

            string memory = CgroupPaths.Of(jail.ProcessId).Single(directory => File.Exists(Path.Join(directory, "memory.stat")));
            long charged = File.ReadLines(Path.Join(memory, "memory.stat"))
                .Select(line => line.Split(' '))
                .Where(parts => parts[0] is "rss" or "anon") // v1 / v2: anonymous memory charged to the cgroup
                .Sum(parts => long.Parse(parts[1], CultureInfo.InvariantCulture));
            long resident = 1024 * long.Parse(
                File.ReadLines($"/proc/{jail.ProcessId}/status").Single(line => line.StartsWith("RssAnon:", StringComparison.Ordinal))["RssAnon:".Length..^"kB".Length].Trim(),
                CultureInfo.InvariantCulture);

            // Moved in after its start, a worker left 1–3 MiB of its runtime's start-up charged to the host's cgroup.
            Assert.True(charged >= resident - (256 << 10), $"charged to the worker's cgroup {charged >> 10} KiB, the worker's anonymous memory {resident >> 10} KiB");
        }
    }
}
