namespace ProcIsolates.Tests;

public sealed class CallTests(SharedInterpreters shared) : IClassFixture<SharedInterpreters>
{
    [Theory]
    [AllIsolations]
    public async Task Primitives_and_strings_travel_both_ways(Isolation isolation)
    {
        Interpreter interpreter = await shared.For(isolation);
        int a = 20;
        Assert.Equal(42, await interpreter.CallAsync(() => TestMethods.Add(a, 22)));
        Assert.Equal(long.MaxValue, await interpreter.CallAsync(() => TestMethods.Echo(long.MaxValue)));
        Assert.Equal(3.25, await interpreter.CallAsync(() => TestMethods.Echo(3.25)));
        Assert.True(await interpreter.CallAsync(() => TestMethods.Echo(true)));
        Assert.Equal("héllo ✓", await interpreter.CallAsync(() => TestMethods.Echo("héllo ✓")));
        Assert.Null(await interpreter.CallAsync(() => TestMethods.Echo<string?>(null)));
        Assert.Equal(Color.Green, await interpreter.CallAsync(() => TestMethods.Echo(Color.Green)));
        var guid = Guid.NewGuid();
        Assert.Equal(guid, await interpreter.CallAsync(() => TestMethods.Echo(guid)));
        var when = new DateTime(2026, 11, 25, 1, 2, 3, DateTimeKind.Utc);
        Assert.Equal(when, await interpreter.CallAsync(() => TestMethods.Echo(when)));
        Assert.Equal(12.5m, await interpreter.CallAsync(() => TestMethods.Echo(12.5m)));
    }

    [Theory]
    [AllIsolations]
    public async Task Arrays_collections_and_tuples_travel(Isolation isolation)
    {
        Interpreter interpreter = await shared.For(isolation);
        Assert.Equal(new[] { 1, 2, 3 }, await interpreter.CallAsync(() => TestMethods.Echo(new[] { 1, 2, 3 })));
        Assert.Equal(new[] { "a", "b" }, await interpreter.CallAsync(() => TestMethods.Echo(new List<string> { "a", "b" })));
        var map = new Dictionary<string, int> { ["x"] = 1, ["y"] = 2 };
        Assert.Equal(map, await interpreter.CallAsync(() => TestMethods.Echo(map)));
        var pair = (1, "one");
        Assert.Equal(pair, await interpreter.CallAsync(() => TestMethods.Echo(pair)));
        byte[] bytes = Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray();
        Assert.Equal(bytes, await interpreter.CallAsync(() => TestMethods.Echo(bytes)));
    }

    [Theory]
    [AllIsolations]
    public async Task Records_travel_through_their_constructors(Isolation isolation)
    {
        Interpreter interpreter = await shared.For(isolation);
        Assert.Equal(new Point(2, 1), await interpreter.CallAsync(() => TestMethods.Mirror(new Point(1, 2))));
        var made = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        Shape grown = await interpreter.CallAsync(() => TestMethods.Grow(new Shape("square", new[] { new Point(1, 1), new Point(2, 2) }, Color.Red, made)));
        Assert.Equal("square", grown.Name);
        Assert.Equal([new Point(2, 2), new Point(4, 4)], grown.Corners);
        Assert.Equal(Color.Red, grown.Color);
        Assert.Equal(made, grown.Made);
    }

    [Theory]
    [InlineData(Isolation.Process)]
    [InlineData(Isolation.AssemblyLoadContext)]
    public async Task Async_void_and_value_task_methods_are_awaited(Isolation isolation)
    {
        Interpreter interpreter = await shared.For(isolation);
        Assert.Equal("ab", await interpreter.CallAsync(() => TestMethods.ConcatAsync("a", "b")));
        Assert.Equal(14, await interpreter.CallAsync(() => TestMethods.DoubleAsync(7)));

        await using Interpreter own = await Interpreters.CreateAsync(new InterpreterOptions { Isolation = isolation });
        await own.CallAsync(() => TestMethods.Increment());
        await own.CallAsync(() => TestMethods.ResetCounter());
        Assert.Equal(0, await own.CallAsync(() => TestMethods.Counter));
        await own.CallAsync(() => TestMethods.Increment());
        await own.CallAsync(() => TestMethods.ResetCounterAsync());
        Assert.Equal(0, await own.CallAsync(() => TestMethods.Counter));
    }

    [Theory]
    [AllIsolations]
    public async Task Framework_methods_can_be_called_too(Isolation isolation)
    {
        Interpreter interpreter = await shared.For(isolation);
        Assert.Equal(interpreter.ProcessId, await interpreter.CallAsync(() => Environment.ProcessId));
        Assert.Equal(5, await interpreter.CallAsync(() => Math.Max(2, 5)));
    }

    [Theory]
    [AllIsolations]
    public async Task A_method_that_throws_fails_with_ExecutionFailedException(Isolation isolation)
    {
        Interpreter interpreter = await shared.For(isolation);
        var ex = await Assert.ThrowsAsync<ExecutionFailedException>(() => interpreter.CallAsync(() => TestMethods.Throw("no luck")));
        Assert.Equal("System.InvalidOperationException", ex.RemoteTypeName);
        Assert.Equal("no luck", ex.RemoteMessage);
        Assert.Contains(nameof(TestMethods.Throw), ex.RemoteStackTrace, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Isolation.Process)]
    [InlineData(Isolation.AssemblyLoadContext)]
    public async Task An_argument_that_is_not_shareable_fails_before_anything_is_sent(Isolation isolation)
    {
        await using Interpreter own = await Interpreters.CreateAsync(new InterpreterOptions { Isolation = isolation });
        var ex = await Assert.ThrowsAsync<NotShareableException>(() => own.CallAsync(() => TestMethods.RunDelegate(() => TestMethods.Increment())));
        Assert.Equal(typeof(Action).FullName, ex.ValueTypeName);
        Assert.Contains("'action'", ex.Message, StringComparison.Ordinal);

        using var stream = new MemoryStream([1, 2, 3]);
        var streamError = await Assert.ThrowsAsync<NotShareableException>(() => own.CallAsync(() => TestMethods.CountItems(stream)));
        Assert.Contains("Stream", streamError.Message, StringComparison.Ordinal);
        Assert.Equal(0, await own.CallAsync(() => TestMethods.Counter));
    }

    [Theory]
    [AllIsolations]
    public async Task A_subclass_sent_as_its_base_class_is_not_shareable_since_it_would_lose_members(Isolation isolation)
    {
        Interpreter interpreter = await shared.For(isolation);
        var ex = await Assert.ThrowsAsync<NotShareableException>(() => interpreter.CallAsync(() => TestMethods.Describe(new Dog { Name = "Rex", Barks = true })));
        Assert.Equal(typeof(Dog).FullName, ex.ValueTypeName);
        Assert.Equal("Rex", await interpreter.CallAsync(() => TestMethods.Describe(new Animal { Name = "Rex" })));
    }

    [Theory]
    [AllIsolations]
    public async Task A_result_that_is_not_shareable_fails_with_NotShareableException(Isolation isolation)
    {
        Interpreter interpreter = await shared.For(isolation);
        var ex = await Assert.ThrowsAsync<NotShareableException>(() => interpreter.CallAsync(() => TestMethods.OpenStream()));
        Assert.Equal(typeof(Stream).FullName, ex.ValueTypeName);
        Assert.Equal(3, await interpreter.CallAsync(() => TestMethods.Add(1, 2)));
    }

    [Theory]
    [AllIsolations]
    public async Task Only_static_method_calls_are_accepted(Isolation isolation)
    {
        Interpreter interpreter = await shared.For(isolation);
        var list = new List<int>();
        await Assert.ThrowsAsync<ArgumentException>(() => interpreter.CallAsync(() => list.Count));
        await Assert.ThrowsAsync<ArgumentException>(() => interpreter.CallAsync(() => 1 + 2));
    }

    [Theory]
    [AllIsolations]
    public async Task A_blocking_call_does_not_hold_up_other_calls(Isolation isolation)
    {
        await using Interpreter own = await Interpreters.CreateAsync(new InterpreterOptions { Isolation = isolation });
        Task blocked = own.CallAsync(() => TestMethods.SleepBlocking(3000));
        await LifecycleTests.WaitUntilAsync(() => own.IsRunning);
        Assert.Equal(5, await own.CallAsync(() => TestMethods.Add(2, 3)).WaitAsync(TimeSpan.FromSeconds(2)));
        Assert.False(blocked.IsCompleted);
        await blocked;
    }

    [Theory]
    [AllIsolations]
    public async Task Concurrent_calls_on_one_interpreter_all_complete(Isolation isolation)
    {
        Interpreter interpreter = await shared.For(isolation);
        int[] results = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => interpreter.CallAsync(() => TestMethods.Add(i, i))));
        Assert.Equal(Enumerable.Range(0, 200).Select(i => i * 2), results);
    }

    [Theory]
    [AllIsolations]
    public async Task Arguments_and_results_of_several_megabytes_travel_whole(Isolation isolation)
    {
        Interpreter interpreter = await shared.For(isolation);
        byte[] data = new byte[8 * 1024 * 1024];
        Random.Shared.NextBytes(data);
        byte[] echoed = await interpreter.CallAsync(() => TestMethods.Incremented(data)).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(data.Length, echoed.Length);
        Assert.True(data.Select(b => (byte)(b + 1)).SequenceEqual(echoed));
    }
}
