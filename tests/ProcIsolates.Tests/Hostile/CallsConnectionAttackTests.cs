using ProcIsolates.Tests.Channels;

namespace ProcIsolates.Tests.Hostile;

/// <summary>Worker code that breaks its own calls connection: the worker is ended and reported as crashed, never left a zombie.</summary>
public sealed class CallsConnectionAttackTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    [Theory]
    [InlineData(false)] // garbage: a length header, then bytes that are not MessagePack
    [InlineData(true)]  // the same, then the connection closed while the worker runs on
    public async Task A_worker_that_writes_garbage_on_its_calls_connection_is_killed_and_reported_crashed(bool thenClose)
    {
        InterpreterChannel<int> bystanderItems = Interpreters.CreateChannel<int>();
        await using Interpreter bystander = await Interpreters.CreateAsync();
        await bystander.CallAsync(() => ChannelJobs.Produce(bystanderItems.Writer, 3, false));

        var logs = new CapturingLoggerFactory();
        await using Interpreter hostile = await Interpreters.CreateAsync(new InterpreterOptions { LoggerFactory = logs });
        var crashed = new TaskCompletionSource<InterpreterCrashedException>(TaskCreationOptions.RunContinuationsAsynchronously);
        hostile.Crashed += (_, e) => crashed.TrySetResult(e.Crash);
        int pid = hostile.ProcessId;

        byte[] garbage = [0, 0, 0, 5, 0xc1, 0xc1, 0xc1, 0xc1, 0xc1];
        InterpreterCrashedException error = await Assert.ThrowsAsync<InterpreterCrashedException>(
            () => hostile.CallAsync(() => HostileJobs.WriteOnCallsConnection(garbage, thenClose)).WaitAsync(Bound));

        InterpreterCrashedException reported = await crashed.Task.WaitAsync(Bound);
        Assert.Equal(InterpreterState.Crashed, hostile.State);
        Assert.DoesNotContain(hostile, Interpreters.ListAll());
        Assert.Empty(await Processes.WaitAllGoneAsync([pid], Bound));
        Assert.Contains(logs.Entries, e => e.EventId.Id == 3);
        if (!thenClose)
        {
            // Garbage: the host killed it and says why. (A worker whose calls connection closes exits by itself.)
            Assert.Contains("calls connection", error.Message, StringComparison.Ordinal);
            Assert.Contains("calls connection", reported.Message, StringComparison.Ordinal);
        }

        // The bystander and its channel's items are untouched.
        Assert.Equal(3, await bystander.CallAsync(() => TestMethods.Add(1, 2)));
        int[] items = [await bystanderItems.Reader.ReadAsync(), await bystanderItems.Reader.ReadAsync(), await bystanderItems.Reader.ReadAsync()];
        Assert.Equal([0, 1, 2], items);
    }

    [Fact]
    public async Task A_worker_that_floods_the_host_with_id_requests_gets_unique_ids_and_slows_no_one()
    {
        await using Interpreter bystander = await Interpreters.CreateAsync();
        await using Interpreter hostile = await Interpreters.CreateAsync();
        long before = await NextIdAsync();

        Task<long[]> flood = hostile.CallAsync(() => HostileJobs.ReserveIdsInALoop(20_000, 256));
        for (int i = 0; i < 20 && !flood.IsCompleted; i++)
        {
            Assert.Equal(3, await bystander.CallAsync(() => TestMethods.Add(1, 2)).WaitAsync(Bound)); // Served meanwhile.
        }

        long[] ids = await flood.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(20_000, ids.Distinct().Count());
        Assert.All(ids, id => Assert.True(id > before));
        Assert.True(await NextIdAsync() > ids.Max());
        Assert.Equal(InterpreterState.Idle, hostile.State);

        static async Task<long> NextIdAsync()
        {
            await using Interpreter probe = await Interpreters.CreateAsync(new InterpreterOptions { Isolation = Isolation.Thread });
            return probe.Id;
        }
    }

    [Fact]
    public async Task A_worker_that_breaks_the_channel_protocol_raises_Crashed_with_the_reason()
    {
        await using Interpreter hostile = await Interpreters.CreateAsync();
        var crashed = new TaskCompletionSource<InterpreterCrashedException>(TaskCreationOptions.RunContinuationsAsynchronously);
        hostile.Crashed += (_, e) => crashed.TrySetResult(e.Crash);

        await Assert.ThrowsAsync<InterpreterCrashedException>(() => hostile.ExecAsync("""
            var context = Type.GetType("ProcIsolates.Worker.WorkerContext, ProcIsolates.Worker")!;
            var pipe = (System.IO.Pipelines.IDuplexPipe)context.GetProperty("ChannelData")!.GetValue(null)!;
            await pipe.Output.WriteAsync(new byte[] { 0x7f, 0xff, 0xff, 0xff, 1, 2, 3 });
            Thread.Sleep(10_000);
            """).WaitAsync(Bound));

        InterpreterCrashedException reported = await crashed.Task.WaitAsync(Bound);
        Assert.Contains("channel protocol", reported.Message, StringComparison.Ordinal);
        Assert.Equal(InterpreterState.Crashed, hostile.State);
    }

    [Fact]
    public async Task A_worker_that_sends_more_than_MaxMessageSize_raises_Crashed_with_the_reason()
    {
        await using Interpreter hostile = await Interpreters.CreateAsync(new InterpreterOptions { MaxMessageSize = 1024 * 1024 });
        var crashed = new TaskCompletionSource<InterpreterCrashedException>(TaskCreationOptions.RunContinuationsAsynchronously);
        hostile.Crashed += (_, e) => crashed.TrySetResult(e.Crash);

        await Assert.ThrowsAsync<InterpreterCrashedException>(() => hostile.CallAsync(() => TestMethods.MakeBytes(3 * 1024 * 1024)).WaitAsync(Bound));
        InterpreterCrashedException reported = await crashed.Task.WaitAsync(Bound);
        Assert.Contains("MaxMessageSize", reported.Message, StringComparison.Ordinal);
        Assert.Equal(InterpreterState.Crashed, hostile.State);
    }
}
