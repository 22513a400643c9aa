namespace ProcIsolates.Tests;

public sealed class OptionsTests
{
    [Fact]
    public async Task MemoryLimit_caps_the_worker_heap_and_exceeding_it_is_an_OutOfMemoryException_there()
    {
        const long limit = 96L * 1024 * 1024;
        await using Interpreter interpreter = await Interpreters.CreateAsync(new InterpreterOptions { MemoryLimit = limit });
        Assert.Equal(limit.ToString(System.Globalization.CultureInfo.InvariantCulture), (await interpreter.ExecAsync("Console.Write(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);")).Stdout);

        var ex = await Assert.ThrowsAsync<ExecutionFailedException>(() => interpreter.ExecAsync("var hog = new byte[200_000_000]; Console.Write(hog.Length);"));
        Assert.Equal("System.OutOfMemoryException", ex.RemoteTypeName);
        Assert.Equal("ok", (await interpreter.ExecAsync("Console.Write(\"ok\");")).Stdout);
    }

    [Fact]
    public async Task Environment_adds_and_removes_variables_and_secrets_are_not_inherited()
    {
        Environment.SetEnvironmentVariable("PROCISOLATES_TEST_SECRET", "hunter2");
        Environment.SetEnvironmentVariable("PROCISOLATES_TEST_REMOVED", "gone");
        Environment.SetEnvironmentVariable("PROCISOLATES_TEST_INHERITED", "kept");
        const string show = """
            foreach (var name in new[] { "PROCISOLATES_TEST_SECRET", "PROCISOLATES_TEST_REMOVED", "PROCISOLATES_TEST_INHERITED", "PROCISOLATES_TEST_ADDED" })
            {
                Console.Write($"{name}={Environment.GetEnvironmentVariable(name) ?? "-"};");
            }
            """;

        await using Interpreter plain = await Interpreters.CreateAsync(new InterpreterOptions { WorkingDirectory = Environment.CurrentDirectory });
        Assert.Equal(
            "PROCISOLATES_TEST_SECRET=hunter2;PROCISOLATES_TEST_REMOVED=gone;PROCISOLATES_TEST_INHERITED=kept;PROCISOLATES_TEST_ADDED=-;",
            (await plain.ExecAsync(show)).Stdout);

        await using Interpreter shaped = await Interpreters.CreateAsync(new InterpreterOptions
        {
            Environment = new Dictionary<string, string?> { ["PROCISOLATES_TEST_ADDED"] = "new", ["PROCISOLATES_TEST_REMOVED"] = null },
            SecretEnvironmentVariables = ["PROCISOLATES_TEST_SECRET"],
        });
        Assert.Equal(
            "PROCISOLATES_TEST_SECRET=-;PROCISOLATES_TEST_REMOVED=-;PROCISOLATES_TEST_INHERITED=kept;PROCISOLATES_TEST_ADDED=new;",
            (await shaped.ExecAsync(show)).Stdout);
    }

    [Fact]
    public async Task WorkingDirectory_sets_the_workers_current_directory()
    {
        string directory = Directory.CreateTempSubdirectory("procisolates-wd-").FullName;
        try
        {
            await using Interpreter interpreter = await Interpreters.CreateAsync(new InterpreterOptions { WorkingDirectory = directory });
            Assert.Equal(directory, (await interpreter.ExecAsync("Console.Write(Environment.CurrentDirectory);")).Stdout);
        }
        finally
        {
            Directory.Delete(directory);
        }
    }

    [Fact]
    public async Task Garbage_collector_knobs_reach_the_worker()
    {
        await using Interpreter interpreter = await Interpreters.CreateAsync(new InterpreterOptions { ServerGarbageCollection = true, ConcurrentGarbageCollection = false });
        Assert.Equal("True Batch", (await interpreter.ExecAsync("Console.Write($\"{System.Runtime.GCSettings.IsServerGC} {System.Runtime.GCSettings.LatencyMode}\");")).Stdout);
    }

    [Fact]
    public async Task Workers_keep_one_MiB_arrays_off_the_large_object_heap_unless_told_otherwise()
    {
        // The large object heap reports generation 2 for a new object; a young object is in generation 0.
        const string Probe = "Console.Write(GC.GetGeneration(new byte[1024 * 1024]));";
        await using Interpreter byDefault = await Interpreters.CreateAsync();
        Assert.Equal("0", (await byDefault.ExecAsync(Probe)).Stdout);

        await using Interpreter runtimeDefault = await Interpreters.CreateAsync(new InterpreterOptions { LargeObjectHeapThreshold = 85_000 });
        Assert.Equal("2", (await runtimeDefault.ExecAsync(Probe)).Stdout);

        // A threshold set through the worker's environment is left as it is (85,000 in hexadecimal).
        await using Interpreter byEnvironment = await Interpreters.CreateAsync(new InterpreterOptions
        {
            Environment = new Dictionary<string, string?> { ["DOTNET_GCLOHThreshold"] = "14c08" },
        });
        Assert.Equal("2", (await byEnvironment.ExecAsync(Probe)).Stdout);

        // So is one under the older prefix; and the option, when set, wins over the environment.
        await using Interpreter byLegacyVariable = await Interpreters.CreateAsync(new InterpreterOptions
        {
            Environment = new Dictionary<string, string?> { ["COMPlus_GCLOHThreshold"] = "14c08" },
        });
        Assert.Equal("2", (await byLegacyVariable.ExecAsync(Probe)).Stdout);
        await using Interpreter optionWins = await Interpreters.CreateAsync(new InterpreterOptions
        {
            LargeObjectHeapThreshold = 2 * 1024 * 1024,
            Environment = new Dictionary<string, string?> { ["DOTNET_GCLOHThreshold"] = "14c08" },
        });
        Assert.Equal("0", (await optionWins.ExecAsync(Probe)).Stdout);
    }

    [Fact]
    public async Task CallTimeout_fails_a_call_that_runs_too_long_with_TimeoutException()
    {
        await using Interpreter interpreter = await Interpreters.CreateAsync(new InterpreterOptions
        {
            CallTimeout = TimeSpan.FromMilliseconds(500),
            CancellationGracePeriod = TimeSpan.FromMilliseconds(200),
        });
        int pid = interpreter.ProcessId;

        // Compiled first, without a timeout (code is cached by content): a compile slowed by a loaded machine must not
        // be what the 500 ms cuts short.
        const string cooperativeCode = "await Task.Delay(10_000, cancellationToken);";
        await using (Interpreter compiler = await Interpreters.CreateAsync())
        {
            using var stop = new CancellationTokenSource();
            Task compiled = compiler.ExecAsync(cooperativeCode, cancellationToken: stop.Token);
            await LifecycleTests.WaitUntilAsync(() => compiler.IsRunning || compiled.IsCompleted);
            stop.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => compiled);
        }

        // Code that watches its token stops at the timeout; its worker stays.
        var cooperative = await Assert.ThrowsAsync<TimeoutException>(() => interpreter.ExecAsync(cooperativeCode));
        Assert.Contains("CallTimeout", cooperative.Message, StringComparison.Ordinal);
        Assert.Equal(pid, interpreter.ProcessId);

        // Code that does not gets its worker replaced, in the background once the grace period is over.
        await Assert.ThrowsAsync<TimeoutException>(() => interpreter.CallAsync(() => TestMethods.SleepBlocking(10_000)));
        await LifecycleTests.WaitUntilAsync(() => interpreter.ProcessId != pid && interpreter.State == InterpreterState.Idle);
        await WarmAsync(interpreter);
    }

    /// <summary>
    /// A first call in a worker loads the test assembly there, which on a loaded machine can take longer than a short
    /// CallTimeout; such a call times out but completes in the worker, and the next one is quick.
    /// </summary>
    private static async Task WarmAsync(Interpreter interpreter)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                Assert.Equal(3, await interpreter.CallAsync(() => TestMethods.Add(1, 2)));
                return;
            }
            catch (TimeoutException) when (attempt < 10)
            {
            }
        }
    }

    [Fact]
    public async Task CallTimeout_throws_at_the_timeout_not_after_the_grace_period()
    {
        await using Interpreter interpreter = await Interpreters.CreateAsync(new InterpreterOptions
        {
            CallTimeout = TimeSpan.FromMilliseconds(300),
            CancellationGracePeriod = TimeSpan.FromSeconds(30),
        });
        int pid = interpreter.ProcessId;
        await WarmAsync(interpreter); // So that the last call is quick under load too.

        // The code ignores its token: the caller still has its answer at CallTimeout, while the worker, whose grace
        // period runs for 30 s more, is still the same process.
        await Assert.ThrowsAsync<TimeoutException>(() => interpreter.CallAsync(() => TestMethods.SleepBlocking(20_000)).WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal(pid, interpreter.ProcessId);
        Assert.True(Processes.IsAlive(pid));
        Assert.Equal(3, await interpreter.CallAsync(() => TestMethods.Add(1, 2))); // The worker serves other calls meanwhile.
    }

    [Fact]
    public async Task Invalid_options_fail_at_create_with_a_clear_message()
    {
        var memory = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Interpreters.CreateAsync(new InterpreterOptions { MemoryLimit = 1024 }));
        Assert.Contains("MemoryLimit", memory.Message, StringComparison.Ordinal);
        var directory = await Assert.ThrowsAsync<DirectoryNotFoundException>(() => Interpreters.CreateAsync(new InterpreterOptions { WorkingDirectory = "/no/such/directory" }));
        Assert.Contains("/no/such/directory", directory.Message, StringComparison.Ordinal);
        var name = await Assert.ThrowsAsync<ArgumentException>(() => Interpreters.CreateAsync(new InterpreterOptions { Environment = new Dictionary<string, string?> { ["A=B"] = "x" } }));
        Assert.Contains("A=B", name.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Interpreters.CreateAsync(new InterpreterOptions { CallTimeout = TimeSpan.Zero }));
        var threshold = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Interpreters.CreateAsync(new InterpreterOptions { LargeObjectHeapThreshold = 1000 }));
        Assert.Contains("LargeObjectHeapThreshold", threshold.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => Interpreters.CreateAsync(new InterpreterOptions { Isolation = Isolation.Thread, LargeObjectHeapThreshold = 1 << 20 }));
    }

    [Fact]
    public async Task Crashed_is_raised_once_with_the_crash()
    {
        await using Interpreter interpreter = await Interpreters.CreateAsync();
        var raised = new TaskCompletionSource<InterpreterCrashedEventArgs>();
        interpreter.Crashed += (sender, e) =>
        {
            Assert.Same(interpreter, sender);
            raised.TrySetResult(e);
        };
        await Assert.ThrowsAsync<InterpreterCrashedException>(() => interpreter.CallAsync(() => TestMethods.Exit(5)));
        InterpreterCrashedEventArgs args = await raised.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(5, args.Crash.ExitCode);
        Assert.Equal(InterpreterState.Crashed, interpreter.State);
    }

    [Fact]
    public async Task A_stack_overflow_crashes_only_its_worker()
    {
        await using Interpreter interpreter = await Interpreters.CreateAsync();
        var ex = await Assert.ThrowsAsync<InterpreterCrashedException>(() => interpreter.ExecAsync("static int Down(int n) => Down(n + 1) + 1; Console.Write(Down(0));"));
        Assert.Contains("Stack overflow", ex.StderrTail, StringComparison.Ordinal);
        await using Interpreter other = await Interpreters.CreateAsync();
        Assert.Equal(2, await other.CallAsync(() => TestMethods.Add(1, 1)));
    }
}
