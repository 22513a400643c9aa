namespace ProcIsolates.Tests;

public sealed class CancellationTests
{
    [Fact]
    public async Task A_cancelled_exec_stops_cooperative_code_and_keeps_the_worker()
    {
        await using Interpreter interpreter = await Interpreters.CreateAsync();
        int pid = interpreter.ProcessId;
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            interpreter.ExecAsync("await Task.Delay(Timeout.Infinite, cancellationToken);", cancellationToken: cancel.Token));
        Assert.Equal(pid, interpreter.ProcessId);
        Assert.Equal(InterpreterState.Idle, interpreter.State);
        Assert.Equal("ok", (await interpreter.ExecAsync("Console.Write(\"ok\");")).Stdout);
    }

    [Fact]
    public async Task A_cancelled_call_reaches_the_methods_token()
    {
        await using Interpreter interpreter = await Interpreters.CreateAsync();
        int pid = interpreter.ProcessId;
        using var cancel = new CancellationTokenSource();
        Task<string> call = interpreter.CallAsync(() => TestMethods.WaitForCancellationAsync(CancellationToken.None), cancel.Token);
        await LifecycleTests.WaitUntilAsync(() => interpreter.IsRunning);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Equal(pid, interpreter.ProcessId);
    }

    [Fact]
    public async Task Code_that_ignores_cancellation_gets_its_worker_replaced_after_the_grace_period()
    {
        await using Interpreter interpreter = await Interpreters.CreateAsync(new InterpreterOptions { CancellationGracePeriod = TimeSpan.FromMilliseconds(300) });
        int firstPid = interpreter.ProcessId;
        await interpreter.CallAsync(() => TestMethods.Increment());
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => interpreter.ExecAsync("Thread.Sleep(60_000);", cancellationToken: cancel.Token));
        Assert.Empty(await Processes.WaitAllGoneAsync([firstPid], TimeSpan.FromSeconds(1)));

        // The interpreter keeps its id and works again, in a fresh worker with fresh statics.
        Assert.Equal(interpreter.Id, await interpreter.CallAsync(() => TestMethods.InterpreterId()));
        Assert.NotEqual(firstPid, interpreter.ProcessId);
        Assert.Equal(0, await interpreter.CallAsync(() => TestMethods.Counter));
    }

    [Fact]
    public async Task An_already_cancelled_token_sends_nothing()
    {
        await using Interpreter interpreter = await Interpreters.CreateAsync();
        using var cancel = new CancellationTokenSource();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => interpreter.CallAsync(() => TestMethods.Increment(), cancel.Token));
        Assert.Equal(0, await interpreter.CallAsync(() => TestMethods.Counter));
    }
}
