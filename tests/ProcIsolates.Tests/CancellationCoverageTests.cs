using System.Reflection;
using System.Threading.Channels;

namespace ProcIsolates.Tests;

/// <summary>Cancellation everywhere: every public async API takes a token and honours it, at every isolation level.</summary>
public sealed class CancellationCoverageTests
{
    /// <summary>The async APIs the theories below run with cancelled tokens; a new one fails the first test until it is added.</summary>
    private static readonly string[] Covered = ["CreateAsync", "ExecAsync", "CallAsync", "CloseAsync", "WarmUpAsync", "MapAsync"];

    [Fact]
    public void Every_public_async_method_takes_a_cancellation_token_and_is_covered_here()
    {
        MethodInfo[] asyncMethods = typeof(Interpreter).Assembly.GetExportedTypes()
            .SelectMany(type => type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(method => IsAsync(method.ReturnType) && method.Name != nameof(IAsyncDisposable.DisposeAsync) && !method.IsSpecialName)
            .ToArray();
        Assert.NotEmpty(asyncMethods);
        Assert.All(asyncMethods, method => Assert.Contains(method.GetParameters(), p => p.ParameterType == typeof(CancellationToken)));
        Assert.Subset(Covered.ToHashSet(), asyncMethods.Select(method => method.Name).ToHashSet());
    }

    [Theory]
    [AllIsolations]
    public async Task A_cancelled_token_stops_every_interpreter_and_pool_method_before_it_runs(Isolation isolation)
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        CancellationToken token = cancelled.Token;
        var options = new InterpreterOptions { Isolation = isolation };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Interpreters.CreateAsync(options, token));
        await using Interpreter interpreter = await Interpreters.CreateAsync(options);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => interpreter.ExecAsync("ProcIsolates.Tests.TestMethods.Increment();", cancellationToken: token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => interpreter.CallAsync(() => TestMethods.Increment(), token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => interpreter.CallAsync(() => TestMethods.ResetCounter(), token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => interpreter.CallAsync(() => TestMethods.ConcatAsync("a", "b"), token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => interpreter.CallAsync(() => TestMethods.DoubleAsync(1), token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => interpreter.CallAsync(() => TestMethods.ResetCounterAsync(), token));
        Assert.Equal("ok", (await interpreter.ExecAsync("Console.Write(\"ok\");")).Stdout); // Nothing was left half done.

        await using var pool = new InterpreterPool(new InterpreterPoolOptions { MinInterpreters = 1, MaxInterpreters = 1, Isolation = isolation });
        await pool.WarmUpAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pool.ExecAsync("Console.Write(1);", cancellationToken: token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pool.CallAsync(() => TestMethods.Add(1, 2), token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pool.CallAsync(() => TestMethods.ResetCounter(), token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (int square in pool.MapAsync([1, 2, 3], x => MapTests.Square(x), cancellationToken: token))
            {
                Assert.Fail($"a cancelled map produced {square}");
            }
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (int square in pool.MapAsync(MapTests.Numbers(3), x => MapTests.Square(x), cancellationToken: token))
            {
                Assert.Fail($"a cancelled map produced {square}");
            }
        });
        Assert.Equal(3, await pool.CallAsync(() => TestMethods.Add(1, 2)));
    }

    [Fact]
    public async Task Cancelling_a_pool_warm_up_stops_the_wait_and_the_pool_still_works()
    {
        await using var pool = new InterpreterPool(new InterpreterPoolOptions { MinInterpreters = 2, MaxInterpreters = 2 });
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(1));
        Task warmUp = pool.WarmUpAsync(cancel.Token);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => warmUp);
        Assert.Equal(5, await pool.CallAsync(() => TestMethods.Add(2, 3)));
    }

    [Theory]
    [AllIsolations]
    public async Task Channel_operations_in_an_interpreter_honour_cancelled_and_cancelling_tokens(Isolation isolation)
    {
        await using Interpreter interpreter = await Interpreters.CreateAsync(new InterpreterOptions { Isolation = isolation });
        InterpreterChannel<int> empty = Interpreters.CreateChannel<int>();
        InterpreterChannel<int> full = Interpreters.CreateChannel<int>(capacity: 1);
        Assert.True(full.Writer.TryWrite(1));
        string[] cancelled = await interpreter.CallAsync(() => TestMethods.CancelledChannelOperations(empty.Reader, full.Writer)).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(
            ["ReadAsync", "WaitToReadAsync", "ReadAllAsync", "WriteAsync", "WaitToWriteAsync", "ReadAsync (midway)", "WaitToReadAsync (midway)", "WriteAsync (midway)", "WaitToWriteAsync (midway)"],
            cancelled);

        // Cancelled waits lost nothing and took nothing.
        Assert.Equal(1, full.Count);
        Assert.True(empty.Writer.TryWrite(7));
        Assert.Equal(7, await empty.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
    }

    private static bool IsAsync(Type type) =>
        typeof(Task).IsAssignableFrom(type) || type == typeof(ValueTask)
        || (type.IsGenericType && type.GetGenericTypeDefinition() is var definition && (definition == typeof(ValueTask<>) || definition == typeof(IAsyncEnumerable<>)));
}
