using System.Net.Sockets;
using ProcIsolates.Workers;

namespace ProcIsolates.Tests.Sandbox;

/// <summary>
/// A spare worker is started with the sandbox it is handed out with, and only ever serves that sandbox: a sandboxed
/// create takes a sandboxed spare, a default create never does, and a sandboxed create never takes a default spare.
/// </summary>
[Collection(nameof(Serial))] // Takes the host's spares, which parallel tests would take too.
public sealed class SandboxedSpareTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_sandboxed_create_takes_a_spare_started_in_the_same_sandbox_and_a_default_create_does_not()
    {
        await using Interpreter first = await Interpreters.CreateAsync(new InterpreterOptions { Sandbox = SandboxOptions.Strict }).WaitAsync(Bound);
        int strictSpare = await SpareProcessIdAsync(SandboxOptions.Strict);
        Assert.NotEqual(first.ProcessId, strictSpare);

        // The spare is confined before it is handed out: it runs no code of ours yet, and its filter is in place.
        Assert.Contains("Seccomp:\t2", File.ReadAllLines($"/proc/{strictSpare}/status"));

        await using Interpreter plain = await Interpreters.CreateAsync().WaitAsync(Bound);
        Assert.NotEqual(strictSpare, plain.ProcessId);
        Assert.True(await plain.CallAsync(() => SocketProbe.CanOpenTcpSocket()));

        await using Interpreter second = await Interpreters.CreateAsync(new InterpreterOptions { Sandbox = SandboxOptions.Strict with { } }).WaitAsync(Bound);
        Assert.Equal(strictSpare, second.ProcessId);
        Assert.Equal(second.Id, await second.CallAsync(() => TestMethods.InterpreterId()));
        Assert.False(await second.CallAsync(() => SocketProbe.CanOpenTcpSocket()));
    }

    [Fact]
    public async Task A_sandboxed_create_never_takes_a_default_spare_nor_one_of_another_sandbox()
    {
        await using Interpreter plain = await Interpreters.CreateAsync().WaitAsync(Bound);
        int defaultSpare = await SpareProcessIdAsync(SandboxOptions.None);
        SandboxOptions noNetwork = SandboxOptions.None with { Network = false };
        await using Interpreter a = await Interpreters.CreateAsync(new InterpreterOptions { Sandbox = noNetwork }).WaitAsync(Bound);
        int noNetworkSpare = await SpareProcessIdAsync(noNetwork);

        await using Interpreter strict = await Interpreters.CreateAsync(new InterpreterOptions { Sandbox = SandboxOptions.Strict }).WaitAsync(Bound);

        Assert.DoesNotContain(strict.ProcessId, new[] { defaultSpare, noNetworkSpare });
        Assert.False(await strict.CallAsync(() => SocketProbe.CanOpenTcpSocket()));
        Assert.Equal(defaultSpare, await SpareProcessIdAsync(SandboxOptions.None)); // Both are still waiting for their kind.
        Assert.Equal(noNetworkSpare, await SpareProcessIdAsync(noNetwork));
    }

    [Fact]
    public async Task Options_that_shape_the_process_besides_the_sandbox_never_take_a_spare()
    {
        await using Interpreter first = await Interpreters.CreateAsync(new InterpreterOptions { Sandbox = SandboxOptions.Strict }).WaitAsync(Bound);
        int strictSpare = await SpareProcessIdAsync(SandboxOptions.Strict);

        var shaped = new InterpreterOptions { Sandbox = SandboxOptions.Strict, Environment = new Dictionary<string, string?> { ["PROCISOLATES_TEST_MARK"] = "shaped" } };
        await using Interpreter own = await Interpreters.CreateAsync(shaped).WaitAsync(Bound);

        Assert.NotEqual(strictSpare, own.ProcessId);
        Assert.Equal("shaped", await own.CallAsync(() => SocketProbe.Variable("PROCISOLATES_TEST_MARK")));
        Assert.Equal(strictSpare, await SpareProcessIdAsync(SandboxOptions.Strict));
    }

    [Fact]
    public async Task Spares_are_kept_for_the_last_sandboxes_used_and_closed_for_the_others()
    {
        SandboxOptions[] kinds =
        [
            SandboxOptions.None with { Network = false },
            SandboxOptions.None with { ChildProcesses = false },
            SandboxOptions.None with { Network = false, ChildProcesses = false },
            SandboxOptions.None with { OtherProcesses = false },
            SandboxOptions.Strict,
        ];
        Assert.Equal(SpareWorkers.MaxKinds + 1, kinds.Length);
        var spares = new List<int>();
        foreach (SandboxOptions kind in kinds)
        {
            await using Interpreter user = await Interpreters.CreateAsync(new InterpreterOptions { Sandbox = kind }).WaitAsync(Bound);
            spares.Add(await SpareProcessIdAsync(kind));
        }

        // The first kind is now the one used least recently: its spare is closed and gone; the others wait.
        Assert.Null(SpareWorkers.Peek(kinds[0]));
        await LifecycleTests.WaitUntilAsync(() => !Directory.Exists($"/proc/{spares[0]}"));
        Assert.All(spares.Skip(1), pid => Assert.True(Directory.Exists($"/proc/{pid}")));
    }

    /// <summary>Closes the spares these tests made, so that tests counting the host's children see only theirs.</summary>
    public void Dispose()
    {
        Interpreters.SpareWorkers = 0;
        Interpreters.SpareWorkers = 1;
    }

    private static async Task<int> SpareProcessIdAsync(SandboxOptions kind)
    {
        Task<WorkerConnection> spare = SpareWorkers.Peek(kind) ?? throw new Xunit.Sdk.XunitException($"No spare for {kind}.");
        return (await spare.WaitAsync(Bound)).ProcessId;
    }
}

/// <summary>What a worker's sockets can do.</summary>
public static class SocketProbe
{
    /// <summary>An environment variable of this process.</summary>
    public static string? Variable(string name) => Environment.GetEnvironmentVariable(name);

    /// <summary>Whether this process may open a TCP socket.</summary>
    public static bool CanOpenTcpSocket()
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
