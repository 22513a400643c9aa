namespace ProcIsolates.Tests;

/// <summary>InterpreterOptions.MaxMessageSize, both ways.</summary>
public sealed class MessageSizeTests
{
    private static readonly InterpreterOptions OneMebibyte = new() { MaxMessageSize = 1024 * 1024 };

    [Fact]
    public async Task A_request_over_the_limit_fails_before_anything_is_sent_and_the_interpreter_goes_on()
    {
        await using Interpreter interpreter = await Interpreters.CreateAsync(OneMebibyte);
        byte[] large = new byte[2 * 1024 * 1024];
        MessageTooLargeException error = await Assert.ThrowsAsync<MessageTooLargeException>(() => interpreter.CallAsync(() => TestMethods.Incremented(large)));
        Assert.Equal(1024 * 1024, error.Limit);
        Assert.True(error.Size >= large.Length);
        Assert.Contains("MaxMessageSize", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<MessageTooLargeException>(() => interpreter.ExecAsync("Console.Write(data.Length);", new Dictionary<string, object?> { ["data"] = large }));

        Assert.Equal([2, 3], await interpreter.CallAsync(() => TestMethods.Incremented(new byte[] { 1, 2 })));
        Assert.Equal(InterpreterState.Idle, interpreter.State);
    }

    [Fact]
    public async Task A_worker_that_answers_with_more_than_the_limit_is_killed_and_the_host_carries_on()
    {
        await using Interpreter interpreter = await Interpreters.CreateAsync(OneMebibyte);
        InterpreterCrashedException crash = await Assert.ThrowsAsync<InterpreterCrashedException>(() => interpreter.CallAsync(() => TestMethods.MakeBytes(3 * 1024 * 1024)));
        Assert.Contains("MaxMessageSize", crash.Message, StringComparison.Ordinal);

        await using Interpreter next = await Interpreters.CreateAsync();
        Assert.Equal(8 * 1024 * 1024, (await next.CallAsync(() => TestMethods.MakeBytes(8 * 1024 * 1024))).Length); // The default allows it.
    }

    [Fact]
    public async Task A_limit_below_64_KiB_is_refused_at_create()
    {
        ArgumentOutOfRangeException error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Interpreters.CreateAsync(new InterpreterOptions { MaxMessageSize = 1000 }));
        Assert.Contains("MaxMessageSize", error.Message, StringComparison.Ordinal);
    }
}
