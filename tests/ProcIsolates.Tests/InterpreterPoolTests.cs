namespace ProcIsolates.Tests;

public sealed class InterpreterPoolTests
{
    [Theory]
    [AllIsolations]
    public async Task Pools_work_at_every_isolation_level(Isolation isolation)
    {
        await using var pool = new InterpreterPool(new InterpreterPoolOptions { MaxInterpreters = 1, MaxTasksPerInterpreter = 2, Isolation = isolation });
        var ids = new List<long>();
        for (int i = 0; i < 3; i++)
        {
            ids.Add(await pool.CallAsync(() => TestMethods.CurrentInterpreterId()));
        }

        Assert.Equal(ids[0], ids[1]);
        Assert.NotEqual(ids[1], ids[2]); // Recycled after two tasks.
        Interpreter member = Assert.Single(Interpreters.ListAll(), i => i.Id == ids[2]);
        Assert.Equal(isolation.ToString(), member.Kind.ToString());
        int[] sums = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => pool.CallAsync(() => TestMethods.Add(i, 1))));
        Assert.Equal(Enumerable.Range(1, 20), sums);
    }

    [Fact]
    public async Task At_most_MaxInterpreters_run_at_once_each_in_its_own_worker()
    {
        await using var pool = new InterpreterPool(new InterpreterPoolOptions { MaxInterpreters = 2 });
        int[] pids = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => pool.CallAsync(() => TestMethods.SleepThenProcessId(200))));
        Assert.Equal(2, pids.Distinct().Count());
        Assert.Equal(2, pool.Count);
        Assert.DoesNotContain(Environment.ProcessId, pids);
    }

    [Fact]
    public async Task MinInterpreters_are_started_ahead_and_serve_the_first_work()
    {
        await using var pool = new InterpreterPool(new InterpreterPoolOptions { MinInterpreters = 2, MaxInterpreters = 2 });
        await pool.WarmUpAsync();
        Assert.Equal(2, pool.Count);
        int[] warm = Interpreters.ListAll().Skip(1).Select(i => i.ProcessId).ToArray();
        int pid = await pool.CallAsync(() => TestMethods.SleepThenProcessId(0));
        Assert.Contains(pid, warm);
        Assert.Equal(2, pool.Count);
    }

    [Fact]
    public async Task MaxTasksPerInterpreter_recycles_interpreters()
    {
        await using var pool = new InterpreterPool(new InterpreterPoolOptions { MaxInterpreters = 1, MaxTasksPerInterpreter = 2 });
        var pids = new List<int>();
        for (int i = 0; i < 5; i++)
        {
            pids.Add(await pool.CallAsync(() => TestMethods.SleepThenProcessId(0)));
        }

        Assert.Equal(pids[0], pids[1]);
        Assert.NotEqual(pids[1], pids[2]);
        Assert.Equal(pids[2], pids[3]);
        Assert.NotEqual(pids[3], pids[4]);
    }

    [Fact]
    public async Task The_initializer_runs_once_in_each_new_interpreter()
    {
        int initialized = 0;
        await using var pool = new InterpreterPool(new InterpreterPoolOptions
        {
            MaxInterpreters = 2,
            Initializer = async (interpreter, token) =>
            {
                Interlocked.Increment(ref initialized);
                await interpreter.CallAsync(() => TestMethods.Increment(), token);
            },
        });
        int[] counters = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => pool.CallAsync(() => TestMethods.Counter)));
        Assert.All(counters, c => Assert.Equal(1, c));
        Assert.Equal(pool.Count, initialized);
    }

    [Fact]
    public async Task A_crash_fails_only_its_own_task_and_the_interpreter_is_replaced()
    {
        await using var pool = new InterpreterPool(new InterpreterPoolOptions { MaxInterpreters = 2 });
        Task<int> bystander = pool.CallAsync(() => TestMethods.SleepThenProcessId(1000));
        await Assert.ThrowsAsync<InterpreterCrashedException>(() => pool.CallAsync(() => TestMethods.Exit(9)));
        int survivor = await bystander;
        Assert.True(survivor > 0);
        Assert.Equal(5, await pool.CallAsync(() => TestMethods.Add(2, 3)));
    }

    [Fact]
    public async Task A_pool_never_holds_more_than_MaxInterpreters_while_it_warms_up_and_serves_at_once()
    {
        // Operations arrive while the two warm-up interpreters are still starting: they wait for them.
        await using var pool = new InterpreterPool(new InterpreterPoolOptions { MinInterpreters = 2, MaxInterpreters = 2 });
        int[] pids = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => pool.CallAsync(() => TestMethods.SleepThenProcessId(50))));
        Assert.True(pool.Count <= 2);
        await pool.WarmUpAsync(); // One warm-up interpreter may have served everything while the other still started.
        Assert.Equal(2, pool.Count);
        Assert.True(pids.Distinct().Count() <= 2, $"{pids.Distinct().Count()} workers served a pool of at most 2");
        Assert.True(Interpreters.ListAll().Count(i => pids.Contains(i.ProcessId)) <= 2);
    }

    [Fact]
    public async Task A_member_that_crashed_is_never_handed_out_again()
    {
        await using var pool = new InterpreterPool(new InterpreterPoolOptions { MaxInterpreters = 1 });
        int first = await pool.CallAsync(() => TestMethods.SleepThenProcessId(0));
        await Assert.ThrowsAsync<InterpreterCrashedException>(() => pool.CallAsync(() => TestMethods.FailFast("the pool's member dies")));

        // At once, before the crash is even reported on the interpreter: a fresh one serves the next operation.
        int next = await pool.CallAsync(() => TestMethods.SleepThenProcessId(0));
        Assert.NotEqual(first, next);
        Assert.Equal(1, pool.Count);
    }

    [Fact]
    public async Task Closing_waits_for_running_work_then_refuses_new_work()
    {
        var pool = new InterpreterPool(new InterpreterPoolOptions { MaxInterpreters = 1 });
        Task<int> running = pool.CallAsync(() => TestMethods.SleepThenProcessId(500));
        await LifecycleTests.WaitUntilAsync(() => pool.Count == 1);
        await pool.CloseAsync();
        int pid = await running;
        Assert.True(running.IsCompletedSuccessfully);
        Assert.Equal(0, pool.Count);
        Assert.Empty(await Processes.WaitAllGoneAsync([pid], TimeSpan.FromSeconds(2)));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => pool.CallAsync(() => TestMethods.Add(1, 1)));
    }

    [Fact]
    public async Task Closing_with_a_cancelled_token_cancels_running_work()
    {
        var pool = new InterpreterPool(new InterpreterPoolOptions { MaxInterpreters = 1 });
        Task<ExecResult> running = pool.ExecAsync("await Task.Delay(Timeout.Infinite, cancellationToken);");
        await LifecycleTests.WaitUntilAsync(() => pool.Count == 1 && Interpreters.ListAll().Any(i => i.IsRunning));
        using var cancel = new CancellationTokenSource();
        await cancel.CancelAsync();
        await pool.CloseAsync(cancel.Token);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
    }

    [Fact]
    public void Invalid_sizes_fail_at_construction()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new InterpreterPool(new InterpreterPoolOptions { MaxInterpreters = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new InterpreterPool(new InterpreterPoolOptions { MinInterpreters = 3, MaxInterpreters = 2 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new InterpreterPool(new InterpreterPoolOptions { MaxTasksPerInterpreter = 0 }));
    }
}
