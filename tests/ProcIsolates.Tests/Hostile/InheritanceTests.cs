using System.Runtime.InteropServices;

namespace ProcIsolates.Tests.Hostile;

/// <summary>What a worker must not get from its host: descriptors opened without close-on-exec, diagnostics endpoints.</summary>
public sealed partial class InheritanceTests
{
    [Fact]
    public async Task A_descriptor_the_host_holds_without_close_on_exec_is_closed_in_the_worker()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        // As a launching shell would leave one: opened without O_CLOEXEC, so every child inherits it.
        string secret = Path.Combine(Path.GetTempPath(), "procisolates-inherited-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(secret, "the host's");
        int descriptor = Open(secret, 0);
        Assert.True(descriptor > 2);
        try
        {
            // Options that shape the process: a fresh worker, not a spare started before the descriptor existed.
            await using Interpreter interpreter = await Interpreters.CreateAsync(new InterpreterOptions { Environment = new Dictionary<string, string?> { ["PROCISOLATES_TEST"] = "fd" } });
            string[] open = await interpreter.CallAsync(() => HostileJobs.OpenDescriptors());
            Assert.DoesNotContain(open, d => d.EndsWith(secret, StringComparison.Ordinal));
            Assert.Contains(open, d => d.StartsWith("0 ", StringComparison.Ordinal)); // Its standard streams are still there.
        }
        finally
        {
            _ = Close(descriptor);
            File.Delete(secret);
        }
    }

    [Fact]
    public async Task Workers_open_no_diagnostics_endpoint_unless_asked()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        await using Interpreter quiet = await Interpreters.CreateAsync(new InterpreterOptions { Environment = new Dictionary<string, string?> { ["PROCISOLATES_TEST"] = "diag" } });
        await using Interpreter traced = await Interpreters.CreateAsync(new InterpreterOptions { EnableDiagnostics = true });
        await LifecycleTests.WaitUntilAsync(() => DiagnosticSockets(traced.ProcessId).Length > 0);
        Assert.Empty(DiagnosticSockets(quiet.ProcessId));
        Assert.Equal("0", await quiet.CallAsync(() => Environment.GetEnvironmentVariable("DOTNET_EnableDiagnostics")));
    }

    private static string[] DiagnosticSockets(int pid) =>
        Directory.GetFiles(Path.GetTempPath(), $"dotnet-diagnostic-{pid}-*");

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int descriptor);
}
