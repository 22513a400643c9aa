namespace ProcIsolates.Tests;

public sealed class ExecTests(SharedInterpreters shared) : IClassFixture<SharedInterpreters>
{
    [Theory]
    [AllIsolations]
    public async Task Exec_captures_stdout_and_stderr_separately_and_in_order(Isolation isolation)
    {
        Interpreter interpreter = await shared.For(isolation);
        ExecResult result = await interpreter.ExecAsync("""
            Console.WriteLine("one");
            Console.Error.WriteLine("warn");
            Console.Write("two");
            Console.Out.Write('!');
            Console.Error.Write("err");
            """);
        Assert.Equal("one\ntwo!", result.Stdout);
        Assert.Equal("warn\nerr", result.Stderr);
        Assert.True(result.Duration > TimeSpan.Zero);
    }

    [Theory]
    [AllIsolations]
    public async Task Output_of_concurrent_execs_does_not_mix(Isolation isolation)
    {
        Interpreter interpreter = await shared.For(isolation);
        Task<ExecResult>[] runs = Enumerable.Range(0, 8)
            .Select(i => interpreter.ExecAsync(
                "for (int k = 0; k < 50; k++) { Console.Write(tag); await Task.Yield(); }",
                new Dictionary<string, object?> { ["tag"] = ((char)('a' + i)).ToString() }))
            .ToArray();
        ExecResult[] results = await Task.WhenAll(runs);
        for (int i = 0; i < results.Length; i++)
        {
            Assert.Equal(new string((char)('a' + i), 50), results[i].Stdout);
        }
    }

    [Theory]
    [AllIsolations]
    public async Task Output_from_tasks_the_code_starts_is_captured(Isolation isolation)
    {
        Interpreter interpreter = await shared.For(isolation);
        ExecResult result = await interpreter.ExecAsync("await Task.Run(() => Console.Write(\"from a pool thread\"));");
        Assert.Equal("from a pool thread", result.Stdout);
    }

    [Theory]
    [AllIsolations]
    public async Task Variables_bind_names_to_values_of_their_runtime_types(Isolation isolation)
    {
        Interpreter interpreter = await shared.For(isolation);
        var variables = new Dictionary<string, object?>
        {
            ["name"] = "spam",
            ["count"] = 3,
            ["numbers"] = new List<int> { 1, 2, 3 },
            ["point"] = new Point(4, 5),
            ["nothing"] = null,
        };
        ExecResult result = await interpreter.ExecAsync(
            "Console.Write($\"{name}:{count}:{numbers.Sum()}:{point.X + point.Y}:{nothing is null}\");", variables);
        Assert.Equal("spam:3:6:9:True", result.Stdout);
    }

    [Theory]
    [AllIsolations]
    public async Task Variables_can_be_assigned_within_the_exec(Isolation isolation)
    {
        Interpreter interpreter = await shared.For(isolation);
        ExecResult result = await interpreter.ExecAsync("count += 1; Console.Write(count);", new Dictionary<string, object?> { ["count"] = 41 });
        Assert.Equal("42", result.Stdout);
    }

    [Theory]
    [AllIsolations]
    public async Task The_same_code_with_other_values_reuses_the_compiled_code(Isolation isolation)
    {
        Interpreter interpreter = await shared.For(isolation);
        string[] outputs = new string[3];
        for (int i = 0; i < 3; i++)
        {
            outputs[i] = (await interpreter.ExecAsync("Console.Write(x * 10);", new Dictionary<string, object?> { ["x"] = i })).Stdout;
        }

        Assert.Equal(["0", "10", "20"], outputs);
    }

    [Theory]
    [AllIsolations]
    public async Task Code_can_use_the_apps_own_types_and_usings_and_declare_types(Isolation isolation)
    {
        Interpreter interpreter = await shared.For(isolation);
        ExecResult result = await interpreter.ExecAsync("""
            using System.Text;
            using ProcIsolates.Tests;
            var builder = new StringBuilder();
            builder.Append(TestMethods.Add(2, 3)).Append(new Pair(1, 2));
            Console.Write(builder);
            record Pair(int A, int B);
            """);
        Assert.Equal("5Pair { A = 1, B = 2 }", result.Stdout);
    }

    [Theory]
    [InlineData(Isolation.Process)]
    [InlineData(Isolation.AssemblyLoadContext)]
    public async Task Statics_persist_between_execs_and_calls_in_one_interpreter(Isolation isolation)
    {
        await using Interpreter own = await Interpreters.CreateAsync(new InterpreterOptions { Isolation = isolation });
        await own.ExecAsync("ProcIsolates.Tests.TestMethods.Increment();");
        await own.CallAsync(() => TestMethods.Increment());
        Assert.Equal(2, await own.CallAsync(() => TestMethods.Counter));
        Assert.Equal("2", (await own.ExecAsync("Console.Write(ProcIsolates.Tests.TestMethods.Counter);")).Stdout);
    }

    [Theory]
    [AllIsolations]
    public async Task Code_that_throws_fails_with_ExecutionFailedException_and_keeps_its_output(Isolation isolation)
    {
        Interpreter interpreter = await shared.For(isolation);
        var ex = await Assert.ThrowsAsync<ExecutionFailedException>(() => interpreter.ExecAsync("""
            Console.Write("before");
            Console.Error.Write("oops");
            throw new ArgumentException("bad thing");
            """));
        Assert.Equal("System.ArgumentException", ex.RemoteTypeName);
        Assert.Equal("bad thing", ex.RemoteMessage);
        Assert.Contains("ArgumentException: bad thing", ex.RemoteStackTrace, StringComparison.Ordinal);
        Assert.Equal("before", ex.Stdout);
        Assert.Equal("oops", ex.Stderr);
        Assert.Equal(interpreter.Id, ex.InterpreterId);
        Assert.Equal(InterpreterState.Idle, interpreter.State);
    }

    [Theory]
    [AllIsolations]
    public async Task Code_that_does_not_compile_fails_before_anything_is_sent(Isolation isolation)
    {
        Interpreter interpreter = await shared.For(isolation);
        var ex = await Assert.ThrowsAsync<CompilationFailedException>(() => interpreter.ExecAsync("Console.Write(1);\nint x = \"text\";"));
        Assert.Contains(ex.Diagnostics, d => d.StartsWith("(2,", StringComparison.Ordinal) && d.Contains("CS0029", StringComparison.Ordinal));
        Assert.IsAssignableFrom<InterpreterException>(ex);
    }

    [Theory]
    [AllIsolations]
    public async Task A_variable_that_is_not_shareable_fails_with_NotShareableException(Isolation isolation)
    {
        Interpreter interpreter = await shared.For(isolation);
        using var stream = new MemoryStream();
        var ex = await Assert.ThrowsAsync<NotShareableException>(() => interpreter.ExecAsync("Console.Write(s);", new Dictionary<string, object?> { ["s"] = stream }));
        Assert.Equal(typeof(MemoryStream).FullName, ex.ValueTypeName);
    }

    [Theory]
    [AllIsolations]
    public async Task An_invalid_variable_name_is_an_argument_error(Isolation isolation)
    {
        Interpreter interpreter = await shared.For(isolation);
        await Assert.ThrowsAsync<ArgumentException>(() => interpreter.ExecAsync("Console.Write(1);", new Dictionary<string, object?> { ["not valid"] = 1 }));
    }

    [Fact]
    public async Task Workers_never_load_the_compiler()
    {
        Interpreter interpreter = await shared.For(Isolation.Process);
        await interpreter.ExecAsync("Console.Write(1);");
        ExecResult loaded = await interpreter.ExecAsync(
            "Console.Write(string.Join(',', AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetName().Name).Where(n => n!.StartsWith(\"Microsoft.CodeAnalysis\"))));");
        Assert.Equal(string.Empty, loaded.Stdout);
        Assert.Contains(AppDomain.CurrentDomain.GetAssemblies(), a => a.GetName().Name == "Microsoft.CodeAnalysis");
    }

    [Fact]
    public async Task The_main_interpreter_runs_code_in_this_process()
    {
        ExecResult result = await Interpreters.Main.ExecAsync("Console.Write($\"{Interpreters.Current.Id} {Environment.ProcessId}\");");
        Assert.Equal($"0 {Environment.ProcessId}", result.Stdout);
    }
}
