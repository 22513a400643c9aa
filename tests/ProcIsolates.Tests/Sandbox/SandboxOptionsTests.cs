using ProcIsolates.Sandbox;
using ProcIsolates.Worker.Sandbox;

namespace ProcIsolates.Tests.Sandbox;

/// <summary>The sandbox's options, checked without a process: what is refused, what is equal, what is sent to the worker.</summary>
public sealed class SandboxOptionsTests
{
    public static TheoryData<string, SandboxOptions> Invalid => new()
    {
        { nameof(SandboxOptions.MaxThreads), SandboxOptions.Strict with { MaxThreads = SandboxOptions.MinimumMaxThreads - 1 } },
        { nameof(SandboxOptions.MaxThreads), SandboxOptions.Strict with { MaxThreads = -1 } },
        { nameof(SandboxOptions.CpuLimit), SandboxOptions.Strict with { CpuLimit = 0 } },
        { nameof(SandboxOptions.CpuLimit), SandboxOptions.Strict with { CpuLimit = double.NaN } },
        { nameof(SandboxOptions.CpuLimit), SandboxOptions.Strict with { CpuLimit = double.PositiveInfinity } },
        { nameof(SandboxOptions.MemoryLimit), SandboxOptions.Strict with { MemoryLimit = SandboxOptions.MinimumMemoryLimit - 1 } },
        { nameof(SandboxOptions.FileSystem), SandboxOptions.None with { ReadablePaths = ["/srv"] } },
        { nameof(SandboxOptions.FileSystem), SandboxOptions.None with { Network = false, WritablePaths = ["/srv"] } },
        { nameof(SandboxOptions.ReadablePaths), SandboxOptions.Strict with { ReadablePaths = ["relative/path"] } },
        { nameof(SandboxOptions.ReadablePaths), SandboxOptions.Strict with { WritablePaths = [""] } },
        { nameof(SandboxOptions.ReadablePaths), SandboxOptions.Strict with { ReadablePaths = ["/srv\n/etc"] } },
        { nameof(SandboxOptions.ReadablePaths), SandboxOptions.Strict with { WritablePaths = ["/srv\0"] } },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public async Task An_invalid_sandbox_is_refused_before_any_process_starts(string parameter, SandboxOptions sandbox)
    {
        ArgumentException refused = await Assert.ThrowsAnyAsync<ArgumentException>(() => Interpreters.CreateAsync(new InterpreterOptions { Sandbox = sandbox }));

        Assert.Equal(parameter, refused.ParamName);
        Assert.Contains(parameter, refused.Message, StringComparison.Ordinal); // The message names what to change.
    }

    [Fact]
    public void The_smallest_values_allowed_are_accepted()
    {
        SandboxOptions edge = SandboxOptions.Strict with { MaxThreads = SandboxOptions.MinimumMaxThreads, CpuLimit = 0.01, MemoryLimit = SandboxOptions.MinimumMemoryLimit, ReadablePaths = ["/srv"], WritablePaths = ["/srv/out"] };
        new InterpreterOptions { Sandbox = edge }.Validate(); // Throws if any is refused.
    }

    [Theory]
    [InlineData(Isolation.Thread)]
    [InlineData(Isolation.AssemblyLoadContext)]
    public async Task A_sandbox_for_code_run_in_this_process_is_refused(Isolation isolation)
    {
        ArgumentException refused = await Assert.ThrowsAsync<ArgumentException>(
            () => Interpreters.CreateAsync(new InterpreterOptions { Isolation = isolation, Sandbox = SandboxOptions.Strict }));

        Assert.Equal(nameof(InterpreterOptions.Sandbox), refused.ParamName);
        Assert.Contains("Isolation.Process", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_null_sandbox_is_refused()
    {
        ArgumentNullException refused = Assert.Throws<ArgumentNullException>(() => new InterpreterOptions { Sandbox = null! }.Validate());
        Assert.Equal(nameof(InterpreterOptions.Sandbox), refused.ParamName);
    }

    [Fact]
    public void Sandboxes_are_equal_by_value_paths_included_in_order()
    {
        Assert.Equal(SandboxOptions.Strict, SandboxOptions.Strict with { });
        Assert.True((SandboxOptions.None with { MaxThreads = null }).Equals(SandboxOptions.None));
        SandboxOptions a = SandboxOptions.Strict with { ReadablePaths = ["/a", "/b"] };
        SandboxOptions b = SandboxOptions.Strict with { ReadablePaths = new List<string> { "/a", "/b" } };
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, SandboxOptions.Strict with { ReadablePaths = ["/b", "/a"] });
        Assert.NotEqual(a, a with { WritablePaths = ["/a"] });
        Assert.NotEqual(SandboxOptions.Strict, SandboxOptions.Strict with { CpuLimit = 0.5 });
        Assert.NotEqual(SandboxOptions.Strict, SandboxOptions.None);
    }

    [Fact]
    public void Strict_takes_away_network_child_processes_files_and_other_processes_and_limits_nothing()
    {
        SandboxOptions strict = SandboxOptions.Strict;
        Assert.False(strict.Network || strict.ChildProcesses || strict.FileSystem || strict.OtherProcesses);
        Assert.Null(strict.MaxThreads);
        Assert.Null(strict.CpuLimit);
        Assert.Null(strict.MemoryLimit);
        Assert.True(SandboxOptions.None.Network && SandboxOptions.None.ChildProcesses && SandboxOptions.None.FileSystem && SandboxOptions.None.OtherProcesses);
        Assert.True(SandboxOptions.None.IsSupported(out string reason));
        Assert.Equal(string.Empty, reason);
    }

    [Fact]
    public void Only_options_that_shape_nothing_but_the_sandbox_can_take_a_spare()
    {
        Assert.Equal(SandboxOptions.None, new InterpreterOptions().SpareKind);
        Assert.Equal(SandboxOptions.Strict, new InterpreterOptions { Sandbox = SandboxOptions.Strict, CallTimeout = TimeSpan.FromSeconds(1) }.SpareKind);
        Assert.Null(new InterpreterOptions { Sandbox = SandboxOptions.Strict, MemoryLimit = 256L << 20 }.SpareKind);
        Assert.Null(new InterpreterOptions { WorkingDirectory = "/" }.SpareKind);
        Assert.Null(new InterpreterOptions { MaxMessageSize = 1 << 20 }.SpareKind);
        Assert.Null(new InterpreterOptions { Sandbox = SandboxOptions.Strict, EnableDiagnostics = true }.SpareKind);
    }

    [Fact]
    public void The_policy_sent_to_the_worker_decodes_to_what_was_encoded_and_malformed_ones_to_nothing()
    {
        var policy = new SandboxPolicy { Network = false, ChildProcesses = true, FileSystem = false, OtherProcesses = false, ReadablePaths = ["/srv/data", "/opt/x y"], WritablePaths = ["/tmp/w"] };

        SandboxPolicy? decoded = SandboxPolicy.Decode(policy.Encode());

        Assert.NotNull(decoded);
        Assert.Equal((policy.Network, policy.ChildProcesses, policy.FileSystem, policy.OtherProcesses), (decoded.Network, decoded.ChildProcesses, decoded.FileSystem, decoded.OtherProcesses));
        Assert.Equal(policy.ReadablePaths, decoded.ReadablePaths);
        Assert.Equal(policy.WritablePaths, decoded.WritablePaths);
        Assert.Null(SandboxPolicy.Decode("not base64!"));
        Assert.Null(SandboxPolicy.Decode(Convert.ToBase64String("012\n"u8.ToArray())));
        Assert.Null(SandboxPolicy.Decode(Convert.ToBase64String("01x1\n"u8.ToArray())));
        Assert.Null(SandboxPolicy.Decode(string.Empty));
    }

    [Theory]
    [InlineData("pids", false, 64.0, "pids.max=64")]
    [InlineData("cpu", true, 0.5, "cpu.max=50000 100000")]
    [InlineData("cpu", false, 1.5, "cpu.cfs_period_us=100000;cpu.cfs_quota_us=150000")]
    [InlineData("memory", true, 268435456.0, "memory.max=268435456;memory.swap.max=0")]
    [InlineData("memory", false, 268435456.0, "memory.limit_in_bytes=268435456;memory.memsw.limit_in_bytes=268435456")]
    public void Each_limit_is_written_to_the_cgroup_files_of_its_hierarchy(string controller, bool unified, double limit, string expected)
    {
        string written = string.Join(';', new CgroupLocation("/sys/fs/cgroup/x", unified).LimitFiles(controller, limit).Select(file => $"{file.File}={file.Value}"));
        Assert.Equal(expected, written);
    }
}
