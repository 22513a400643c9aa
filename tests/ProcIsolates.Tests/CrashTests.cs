namespace ProcIsolates.Tests;

public sealed class CrashTests
{
    [Fact]
    public async Task A_worker_that_exits_fails_the_call_with_its_exit_code()
    {
        await using Interpreter interpreter = await Interpreters.CreateAsync();
        var ex = await Assert.ThrowsAsync<InterpreterCrashedException>(() => interpreter.CallAsync(() => TestMethods.Exit(3)));
        Assert.Equal(3, ex.ExitCode);
        Assert.Null(ex.Signal);
        Assert.Equal(interpreter.Id, ex.InterpreterId);
        await LifecycleTests.WaitUntilAsync(() => interpreter.State == InterpreterState.Crashed);
        Assert.DoesNotContain(interpreter, Interpreters.ListAll());
        await Assert.ThrowsAsync<InterpreterCrashedException>(() => interpreter.CallAsync(() => TestMethods.Add(1, 1)));
    }

    [Fact]
    public async Task A_worker_that_fails_fast_reports_the_signal_and_its_last_stderr_lines()
    {
        await using Interpreter interpreter = await Interpreters.CreateAsync();
        var ex = await Assert.ThrowsAsync<InterpreterCrashedException>(() => interpreter.ExecAsync("Environment.FailFast(\"the sky is falling\");"));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(6, ex.Signal); // SIGABRT
        }

        Assert.Contains("the sky is falling", ex.StderrTail, StringComparison.Ordinal);
        Assert.Contains("the sky is falling", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_worker_killed_from_outside_fails_its_in_flight_calls_and_others_go_on()
    {
        await using Interpreter victim = await Interpreters.CreateAsync();
        await using Interpreter bystander = await Interpreters.CreateAsync();
        Task<string> inFlight = victim.CallAsync(() => TestMethods.WaitForCancellationAsync(CancellationToken.None));
        await LifecycleTests.WaitUntilAsync(() => victim.IsRunning);

        Processes.KillHard(victim.ProcessId);
        var ex = await Assert.ThrowsAsync<InterpreterCrashedException>(() => inFlight).WaitAsync(TimeSpan.FromSeconds(1));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(9, ex.Signal); // SIGKILL
        }

        Assert.Equal(3, await bystander.CallAsync(() => TestMethods.Add(1, 2)));
        await using Interpreter fresh = await Interpreters.CreateAsync();
        Assert.Equal(7, await fresh.CallAsync(() => TestMethods.Add(3, 4)));
    }
}
