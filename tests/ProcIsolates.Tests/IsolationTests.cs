using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using ProcIsolates.Tests.Channels;

namespace ProcIsolates.Tests;

/// <summary>What each isolation level isolates, checked side by side (the table in docs/isolation.md).</summary>
public sealed class IsolationTests
{
    [Theory]
    [AllIsolations]
    public async Task Statics_are_the_interpreters_own_except_in_thread_mode(Isolation isolation)
    {
        await using Interpreter first = await Interpreters.CreateAsync(new InterpreterOptions { Isolation = isolation });
        await using Interpreter second = await Interpreters.CreateAsync(new InterpreterOptions { Isolation = isolation });
        string marker = Guid.NewGuid().ToString("N");
        await first.CallAsync(() => TestMethods.SetMarker(marker));
        string? seenBySecond = await second.CallAsync(() => TestMethods.GetMarker());
        string? seenByFirst = await first.CallAsync(() => TestMethods.GetMarker());

        Assert.Equal(marker, seenByFirst);
        if (isolation == Isolation.Thread)
        {
            Assert.Equal(marker, seenBySecond);
            Assert.Equal(marker, TestMethods.GetMarker()); // The host's own static.
        }
        else
        {
            Assert.NotEqual(marker, seenBySecond);
            Assert.NotEqual(marker, TestMethods.GetMarker());
        }
    }

    [Theory]
    [AllIsolations]
    public async Task Kind_process_id_and_current_tell_where_the_code_runs(Isolation isolation)
    {
        await using Interpreter interpreter = await Interpreters.CreateAsync(new InterpreterOptions { Isolation = isolation });
        long currentId = await interpreter.CallAsync(() => TestMethods.CurrentInterpreterId());
        Assert.Equal(interpreter.Id, currentId);
        Assert.Equal(interpreter.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), (await interpreter.ExecAsync("Console.Write(Interpreters.Current.Id);")).Stdout);
        Assert.Equal(0, Interpreters.Current.Id); // Not changed for the host by the interpreter's code.
        Assert.Equal(
            isolation switch { Isolation.Process => InterpreterKind.Process, Isolation.AssemblyLoadContext => InterpreterKind.AssemblyLoadContext, _ => InterpreterKind.Thread },
            interpreter.Kind);
        Assert.Equal(isolation != Isolation.Process, interpreter.ProcessId == Environment.ProcessId);
        Assert.Equal(interpreter.ProcessId, await interpreter.CallAsync(() => Environment.ProcessId));
    }

    [Theory]
    [InlineData(Isolation.AssemblyLoadContext, "assembly load context")]
    [InlineData(Isolation.Thread, "thread")]
    public async Task ToString_names_the_isolation_level(Isolation isolation, string kind)
    {
        Interpreter interpreter = await Interpreters.CreateAsync(new InterpreterOptions { Isolation = isolation });
        Assert.Equal($"Interpreter(Id={interpreter.Id}, {kind}, pid={Environment.ProcessId})", interpreter.ToString());
        Assert.Contains(interpreter, Interpreters.ListAll());
        await interpreter.CloseAsync();
        Assert.Equal($"Interpreter(Id={interpreter.Id}, {kind}, pid={Environment.ProcessId}, closed)", interpreter.ToString());
        Assert.DoesNotContain(interpreter, Interpreters.ListAll());
    }

    [Theory]
    [AllIsolations]
    public async Task Close_is_idempotent_and_a_closed_interpreter_refuses_work(Isolation isolation)
    {
        Interpreter interpreter = await Interpreters.CreateAsync(new InterpreterOptions { Isolation = isolation });
        await interpreter.CloseAsync();
        await interpreter.CloseAsync();
        await interpreter.DisposeAsync();
        Assert.Equal(InterpreterState.Closed, interpreter.State);
        await Assert.ThrowsAsync<InterpreterClosedException>(() => interpreter.ExecAsync("Console.Write(1);"));
        await Assert.ThrowsAsync<InterpreterClosedException>(() => interpreter.CallAsync(() => TestMethods.Add(1, 2)));
    }

    [Theory]
    [AllIsolations]
    public async Task Closing_fails_calls_in_flight_with_InterpreterClosedException(Isolation isolation)
    {
        Interpreter interpreter = await Interpreters.CreateAsync(new InterpreterOptions { Isolation = isolation });
        Task<string> call = interpreter.CallAsync(() => TestMethods.WaitForCancellationAsync(CancellationToken.None));
        await LifecycleTests.WaitUntilAsync(() => interpreter.IsRunning);
        await interpreter.CloseAsync();
        await Assert.ThrowsAsync<InterpreterClosedException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Theory]
    [AllIsolations]
    public async Task A_cancelled_exec_stops_cooperative_code_and_the_interpreter_works_on(Isolation isolation)
    {
        await using Interpreter interpreter = await Interpreters.CreateAsync(new InterpreterOptions { Isolation = isolation });
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            interpreter.ExecAsync("await Task.Delay(Timeout.Infinite, cancellationToken);", cancellationToken: cancel.Token));
        Assert.Equal(InterpreterState.Idle, interpreter.State);
        Assert.Equal("ok", (await interpreter.ExecAsync("Console.Write(\"ok\");")).Stdout);
    }

    [Theory]
    [InlineData(Isolation.AssemblyLoadContext)]
    [InlineData(Isolation.Thread)]
    public async Task In_process_code_that_ignores_cancellation_is_left_running_after_the_grace_period(Isolation isolation)
    {
        await using Interpreter interpreter = await Interpreters.CreateAsync(new InterpreterOptions { Isolation = isolation, CancellationGracePeriod = TimeSpan.FromMilliseconds(200) });
        using var cancel = new CancellationTokenSource();
        Task<ExecResult> exec = interpreter.ExecAsync("Thread.Sleep(6000);", cancellationToken: cancel.Token);

        // Cancelled once the code runs, not while it compiles (a cold compiler can take longer than any fixed delay).
        // The code sleeps long enough that a poll delayed by a starved thread pool (CI runs tests side by side, some of
        // them blocking pool threads) still cancels it while it runs.
        await LifecycleTests.WaitUntilAsync(() => interpreter.IsRunning);
        await cancel.CancelAsync();
        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => exec.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("left running", ex.Message, StringComparison.Ordinal);
        Assert.Equal(3, await interpreter.CallAsync(() => TestMethods.Add(1, 2)));
    }

    [Theory]
    [InlineData(Isolation.AssemblyLoadContext)]
    [InlineData(Isolation.Thread)]
    public async Task Options_that_only_a_process_can_have_are_refused_in_process(Isolation isolation)
    {
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => Interpreters.CreateAsync(new InterpreterOptions { Isolation = isolation, MemoryLimit = 256L * 1024 * 1024 }));
        Assert.Contains("Isolation.Process", ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => Interpreters.CreateAsync(new InterpreterOptions { Isolation = isolation, Environment = new Dictionary<string, string?> { ["A"] = "1" } }));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Interpreters.CreateAsync(new InterpreterOptions { Isolation = (Isolation)42 }));
    }

    [Fact]
    public async Task A_closed_assembly_load_context_interpreter_is_unloaded()
    {
        WeakReference context = await RunAndCloseAsync();
        for (int i = 0; i < 20 && context.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            await Task.Delay(50);
        }

        Assert.False(context.IsAlive, "the interpreter's assembly load context was not collected after it closed");
    }

    [Fact]
    public async Task Interpreters_of_every_level_share_one_channel()
    {
        await using Interpreter process = await Interpreters.CreateAsync();
        await using Interpreter loadContext = await Interpreters.CreateAsync(new InterpreterOptions { Isolation = Isolation.AssemblyLoadContext });
        await using Interpreter thread = await Interpreters.CreateAsync(new InterpreterOptions { Isolation = Isolation.Thread });
        InterpreterChannel<int> first = Interpreters.CreateChannel<int>(capacity: 16);
        InterpreterChannel<int> second = Interpreters.CreateChannel<int>();

        // process → load context → thread → host, each hop through the broker.
        Task produce = process.CallAsync(() => ChannelJobs.ProduceFast(first.Writer, 5000, true));
        Task<int> forward = loadContext.CallAsync(() => ChannelJobs.Forward(first.Reader, second.Writer));
        Task<long> sum = thread.CallAsync(() => ChannelJobs.Sum(second.Reader));
        await produce.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(5000, await forward.WaitAsync(TimeSpan.FromSeconds(30)));
        second.Writer.Complete();
        Assert.Equal(5000L * 4999 / 2, await sum.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<WeakReference> RunAndCloseAsync()
    {
        Interpreter interpreter = await Interpreters.CreateAsync(new InterpreterOptions { Isolation = Isolation.AssemblyLoadContext });
        Assert.Equal("5", (await interpreter.ExecAsync("Console.Write(ProcIsolates.Tests.TestMethods.Add(2, 3));")).Stdout);
        Assert.Equal(5, await interpreter.CallAsync(() => TestMethods.Add(2, 3)));
        var context = new WeakReference(AssemblyLoadContext.All.Single(c => c.Name == $"ProcIsolates interpreter {interpreter.Id}"));
        await interpreter.CloseAsync();
        return context;
    }
}
