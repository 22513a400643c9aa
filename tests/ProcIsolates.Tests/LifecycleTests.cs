namespace ProcIsolates.Tests;

public sealed class LifecycleTests
{
    [Fact]
    public async Task Create_starts_a_worker_process_that_is_listed_until_closed()
    {
        Interpreter interpreter = await Interpreters.CreateAsync();
        try
        {
            Assert.Equal(InterpreterKind.Process, interpreter.Kind);
            Assert.Equal(InterpreterState.Idle, interpreter.State);
            Assert.False(interpreter.IsRunning);
            Assert.NotEqual(Environment.ProcessId, interpreter.ProcessId);
            Assert.True(Processes.IsAlive(interpreter.ProcessId));
            Assert.Equal(interpreter.ProcessId, await interpreter.CallAsync(() => TestMethods.ProcessId()));

            IReadOnlyList<Interpreter> all = Interpreters.ListAll();
            Assert.Same(Interpreters.Main, all[0]);
            Assert.Contains(interpreter, all);
            Assert.Equal(all.Skip(1).Select(i => i.Id).Order(), all.Skip(1).Select(i => i.Id));
        }
        finally
        {
            await interpreter.CloseAsync();
        }

        Assert.Equal(InterpreterState.Closed, interpreter.State);
        Assert.DoesNotContain(interpreter, Interpreters.ListAll());
        Assert.Empty(await Processes.WaitAllGoneAsync([interpreter.ProcessId], TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task Ids_increase_and_are_never_reused()
    {
        var ids = new List<long>();
        for (int i = 0; i < 3; i++)
        {
            await using Interpreter interpreter = await Interpreters.CreateAsync();
            ids.Add(interpreter.Id);
        }

        Assert.All(ids, id => Assert.True(id > 0));
        Assert.Equal(ids.Order(), ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());
        await using Interpreter later = await Interpreters.CreateAsync();
        Assert.True(later.Id > ids.Max());
    }

    [Fact]
    public async Task Interpreters_created_inside_workers_get_ids_unique_across_the_host_and_all_its_workers()
    {
        await using Interpreter outer = await Interpreters.CreateAsync();
        NestedIds inner = await outer.CallAsync(() => TestMethods.CreateInterpretersHere(2));
        NestedIds innermost = Assert.IsType<NestedIds>(inner.Deeper);

        long[] ids = [outer.Id, inner.Child, inner.Thread, innermost.Child, innermost.Thread];
        Assert.Equal(ids.Length, ids.Distinct().Count());
        Assert.All(ids, id => Assert.True(id > 0));
        Assert.Equal(outer.Id, inner.Current);
        Assert.Equal(inner.Child, innermost.Current);

        // Each worker lists the main interpreter, itself, then what it created, by id.
        Assert.Equal([0, outer.Id, .. new[] { inner.Child, inner.Thread }.Order()], inner.Listed);
        Assert.Equal([0, inner.Child, .. new[] { innermost.Child, innermost.Thread }.Order()], innermost.Listed);

        // The host mints every id: its next one comes after all of them.
        await using Interpreter later = await Interpreters.CreateAsync(new InterpreterOptions { Isolation = Isolation.Thread });
        Assert.True(later.Id > ids.Max());
        Assert.DoesNotContain(Interpreters.ListAll(), i => i.Id == inner.Child || i.Id == innermost.Child);
    }

    [Fact]
    public async Task Current_inside_a_worker_has_the_id_the_host_sees()
    {
        await using Interpreter interpreter = await Interpreters.CreateAsync();
        Assert.Equal(interpreter.Id, await interpreter.CallAsync(() => TestMethods.InterpreterId()));
        ExecResult result = await interpreter.ExecAsync("Console.Write(Interpreters.Current.Id);");
        Assert.Equal(interpreter.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), result.Stdout);
    }

    [Fact]
    public void Main_is_interpreter_zero_in_this_process()
    {
        Interpreter main = Interpreters.Main;
        Assert.Equal(0, main.Id);
        Assert.Equal(InterpreterKind.Main, main.Kind);
        Assert.Equal(Environment.ProcessId, main.ProcessId);
        Assert.Same(main, Interpreters.Current);
        Assert.Equal($"Interpreter(Id=0, main, pid={Environment.ProcessId})", main.ToString());
    }

    [Fact]
    public async Task ToString_names_id_kind_and_pid()
    {
        Interpreter interpreter = await Interpreters.CreateAsync();
        Assert.Equal($"Interpreter(Id={interpreter.Id}, process, pid={interpreter.ProcessId})", interpreter.ToString());
        await interpreter.CloseAsync();
        Assert.Equal($"Interpreter(Id={interpreter.Id}, process, pid={interpreter.ProcessId}, closed)", interpreter.ToString());
    }

    [Fact]
    public async Task Close_is_idempotent_and_a_closed_interpreter_refuses_work()
    {
        Interpreter interpreter = await Interpreters.CreateAsync();
        await interpreter.CloseAsync();
        await interpreter.CloseAsync();
        await interpreter.DisposeAsync();

        var exec = await Assert.ThrowsAsync<InterpreterClosedException>(() => interpreter.ExecAsync("Console.Write(1);"));
        Assert.Equal(interpreter.Id, exec.InterpreterId);
        await Assert.ThrowsAsync<InterpreterClosedException>(() => interpreter.CallAsync(() => TestMethods.Add(1, 2)));
    }

    [Fact]
    public async Task Closing_fails_calls_in_flight_with_InterpreterClosedException()
    {
        Interpreter interpreter = await Interpreters.CreateAsync();
        Task call = interpreter.CallAsync(() => TestMethods.SleepBlocking(30_000));
        await WaitUntilAsync(() => interpreter.IsRunning);
        await interpreter.CloseAsync();
        await Assert.ThrowsAsync<InterpreterClosedException>(() => call);
        Assert.False(Processes.IsAlive(interpreter.ProcessId));
    }

    [Fact]
    public async Task Closing_the_main_interpreter_does_nothing()
    {
        await Interpreters.Main.CloseAsync();
        Assert.Equal(InterpreterState.Idle, Interpreters.Main.State);
        Assert.Equal(3, await Interpreters.Main.CallAsync(() => TestMethods.Add(1, 2)));
    }

    [Fact]
    public async Task Invalid_options_fail_at_create()
    {
        var ex = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Interpreters.CreateAsync(new InterpreterOptions { StartTimeout = TimeSpan.FromSeconds(-5) }));
        Assert.Contains("StartTimeout", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_honours_a_cancelled_token()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Interpreters.CreateAsync(cancellationToken: cancelled.Token));
    }

    internal static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }
}
