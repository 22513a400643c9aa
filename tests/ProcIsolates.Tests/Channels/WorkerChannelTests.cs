using System.Threading.Channels;

namespace ProcIsolates.Tests.Channels;

/// <summary>Channel ends passed into interpreters of every isolation level: host ↔ interpreter and interpreter ↔ interpreter.</summary>
public sealed class WorkerChannelTests(TwoWorkers workers) : IClassFixture<TwoWorkers>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Theory]
    [AllIsolations]
    public async Task A_worker_reads_what_the_host_writes(Isolation isolation)
    {
        TwoWorkers.Pair pair = await workers.For(isolation);
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>();
        for (int i = 1; i <= 100; i++)
        {
            await channel.Writer.WriteAsync(i);
        }

        channel.Writer.Complete();
        Assert.Equal(5050, await pair.A.CallAsync(() => ChannelJobs.Sum(channel.Reader)).WaitAsync(Timeout));
        await channel.Reader.Completion.WaitAsync(Timeout);
    }

    [Theory]
    [AllIsolations]
    public async Task TryWrite_on_a_full_or_closed_channel_refuses_before_serializing(Isolation isolation)
    {
        TwoWorkers.Pair pair = await workers.For(isolation);
        InterpreterChannel<object> channel = Interpreters.CreateChannel<object>(capacity: 1);
        Assert.True(channel.Writer.TryWrite("first"));

        // Full: refused without serializing, so a value that cannot travel is refused rather than an error (and a
        // large item is not written to a file for nothing).
        Assert.False(channel.Writer.TryWrite(new MemoryStream()));
        Assert.Equal("refused", await pair.A.CallAsync(() => ChannelJobs.TryWriteUnshareable(channel.Writer)).WaitAsync(Timeout));

        // With room, the value is serialized and fails as it always did.
        Assert.Equal("first", await channel.Reader.ReadAsync().AsTask().WaitAsync(Timeout));
        Assert.Throws<NotShareableException>(() => channel.Writer.TryWrite(new MemoryStream()));
        Assert.Equal(nameof(NotShareableException), await pair.A.CallAsync(() => ChannelJobs.TryWriteUnshareable(channel.Writer)).WaitAsync(Timeout));
        Assert.Equal(0, channel.Count);

        // Closed: refused, as .NET's TryWrite on a completed channel.
        channel.Writer.Complete();
        Assert.False(channel.Writer.TryWrite(new MemoryStream()));
        Assert.Equal("refused", await pair.A.CallAsync(() => ChannelJobs.TryWriteUnshareable(channel.Writer)).WaitAsync(Timeout));
    }

    [Theory]
    [AllIsolations]
    public async Task Exec_code_reads_a_channel_end_passed_as_a_variable(Isolation isolation)
    {
        TwoWorkers.Pair pair = await workers.For(isolation);
        InterpreterChannel<string> jobs = Interpreters.CreateChannel<string>();
        jobs.Writer.TryWrite("spam");
        jobs.Writer.TryWrite("eggs");
        jobs.Writer.Complete();
        ExecResult result = await pair.A.ExecAsync(
            "await foreach (var j in jobs.ReadAllAsync()) { Console.WriteLine(j.ToUpperInvariant()); }",
            new Dictionary<string, object?> { ["jobs"] = jobs.Reader }).WaitAsync(Timeout);
        Assert.Equal("SPAM\nEGGS\n", result.Stdout.ReplaceLineEndings("\n"));
    }

    [Theory]
    [AllIsolations]
    public async Task The_host_reads_what_a_worker_writes_and_sees_it_complete(Isolation isolation)
    {
        TwoWorkers.Pair pair = await workers.For(isolation);
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>();
        await pair.A.CallAsync(() => ChannelJobs.Produce(channel.Writer, 500, true)).WaitAsync(Timeout);
        Assert.Equal(500, channel.Count);
        Assert.Equal(Enumerable.Range(0, 500), await DrainAsync(channel));
    }

    [Theory]
    [AllIsolations]
    public async Task Workers_exchange_jobs_and_results_through_the_host(Isolation isolation)
    {
        TwoWorkers.Pair pair = await workers.For(isolation);
        InterpreterChannel<Job> jobs = Interpreters.CreateChannel<Job>(capacity: 100);
        InterpreterChannel<Result> results = Interpreters.CreateChannel<Result>();
        Task<int> consumerA = pair.A.CallAsync(() => ChannelJobs.Consume(jobs.Reader, results.Writer));
        Task<int> consumerB = pair.B.CallAsync(() => ChannelJobs.Consume(jobs.Reader, results.Writer));
        for (int i = 0; i < 2000; i++)
        {
            await jobs.Writer.WriteAsync(new Job(i, "job " + i));
        }

        jobs.Writer.Complete();
        int handled = await consumerA.WaitAsync(Timeout) + await consumerB.WaitAsync(Timeout);
        results.Writer.Complete();

        var seen = new HashSet<int>();
        var processes = new HashSet<int>();
        await foreach (Result result in results.Reader.ReadAllAsync())
        {
            Assert.True(seen.Add(result.Number), $"job {result.Number} answered twice");
            processes.Add(result.Worker);
        }

        Assert.Equal(2000, handled);
        Assert.Equal(2000, seen.Count);
        Assert.Subset(new HashSet<int> { pair.A.ProcessId, pair.B.ProcessId }, processes);
    }

    [Theory]
    [AllIsolations]
    public async Task Readers_that_take_their_time_share_the_jobs_instead_of_one_hoarding_them(Isolation isolation)
    {
        TwoWorkers.Pair pair = await workers.For(isolation);
        InterpreterChannel<Job> jobs = Interpreters.CreateChannel<Job>();
        for (int i = 0; i < 12; i++)
        {
            jobs.Writer.TryWrite(new Job(i, "slow"));
        }

        jobs.Writer.Complete();
        Task<int[]> a = pair.A.CallAsync(() => ChannelJobs.SlowConsume(jobs.Reader, 100));
        Task<int[]> b = pair.B.CallAsync(() => ChannelJobs.SlowConsume(jobs.Reader, 100));
        int[][] taken = await Task.WhenAll(a, b).WaitAsync(Timeout);
        Assert.Equal(Enumerable.Range(0, 12), taken.SelectMany(t => t).Order());
        Assert.All(taken, t => Assert.InRange(t.Length, 3, 9)); // A reader fetches one job at a time while it is slow.
    }

    [Theory]
    [AllIsolations]
    public async Task Worker_to_worker_in_order(Isolation isolation)
    {
        TwoWorkers.Pair pair = await workers.For(isolation);
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>(capacity: 64);
        Task produce = pair.A.CallAsync(() => ChannelJobs.ProduceFast(channel.Writer, 20_000, true));
        long sum = await pair.B.CallAsync(() => ChannelJobs.Sum(channel.Reader)).WaitAsync(Timeout);
        await produce.WaitAsync(Timeout);
        Assert.Equal(20_000L * 19_999 / 2, sum);
    }

    [Theory]
    [AllIsolations]
    public async Task An_end_passed_on_twice_still_reaches_the_same_channel(Isolation isolation)
    {
        TwoWorkers.Pair pair = await workers.For(isolation);
        InterpreterChannel<int> data = Interpreters.CreateChannel<int>();
        InterpreterChannel<ChannelReader<int>> via = Interpreters.CreateChannel<ChannelReader<int>>();
        await pair.A.CallAsync(() => ChannelJobs.PassOn(data.Reader, via.Writer)).WaitAsync(Timeout); // host → A → channel
        Task<long> sum = pair.B.CallAsync(() => ChannelJobs.ReceiveEndAndSum(via.Reader, 3)); // channel → B
        foreach (int item in new[] { 10, 20, 30 })
        {
            await data.Writer.WriteAsync(item);
        }

        Assert.Equal(60, await sum.WaitAsync(Timeout));
    }

    [Theory]
    [AllIsolations]
    public async Task A_bounded_channel_blocks_a_writer_in_another_process(Isolation isolation)
    {
        TwoWorkers.Pair pair = await workers.For(isolation);
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>(capacity: 1);
        Assert.True(channel.Writer.TryWrite(1));
        Assert.False(await pair.A.CallAsync(() => ChannelJobs.TryWriteOne(channel.Writer, 2)).WaitAsync(Timeout));

        // The worker says when its write has started, so that the host reads only then, however late the call runs.
        InterpreterChannel<int> started = Interpreters.CreateChannel<int>();
        Task<bool> blocked = pair.A.CallAsync(() => ChannelJobs.WriteBlocks(channel.Writer, started.Writer, 3));
        Assert.Equal(3, await started.Reader.ReadAsync().AsTask().WaitAsync(Timeout));
        await Task.Delay(100);
        Assert.False(blocked.IsCompleted);
        Assert.Equal(1, await channel.Reader.ReadAsync());
        Assert.True(await blocked.WaitAsync(Timeout)); // It had waited while the channel was full.
        Assert.Equal(3, await channel.Reader.ReadAsync().AsTask().WaitAsync(Timeout));
    }

    [Theory]
    [AllIsolations]
    public async Task A_cancelled_rendezvous_write_is_never_delivered_and_one_that_completed_always_is(Isolation isolation)
    {
        TwoWorkers.Pair pair = await workers.For(isolation);
        InterpreterChannel<int> lonely = Interpreters.CreateChannel<int>(capacity: 0);
        Assert.False(await pair.A.CallAsync(() => ChannelJobs.WriteWithin(lonely.Writer, 42, 300)).WaitAsync(Timeout)); // Cancelled: no reader came.
        Assert.Equal(0, lonely.Count);
        Assert.False(lonely.Reader.TryRead(out _)); // The offer was taken back, not left for a later reader.

        // Cancellations racing with a reader: exactly the writes that completed are delivered, once each, in order.
        InterpreterChannel<int> raced = Interpreters.CreateChannel<int>(capacity: 0);
        Task<int[]> writes = pair.A.CallAsync(() => ChannelJobs.WriteWithRandomCancellations(raced.Writer, 300));
        var delivered = new List<int>();
        await foreach (int item in raced.Reader.ReadAllAsync().WithCancellation(new CancellationTokenSource(Timeout).Token))
        {
            delivered.Add(item);
            if (delivered.Count % 3 == 0)
            {
                await Task.Delay(15); // A slower reader now and then, so that some writes time out.
            }
        }

        int[] written = await writes.WaitAsync(Timeout);
        Assert.Equal(written, delivered);
        Assert.InRange(written.Length, 1, 299); // Some writes were cancelled, some were not: the race was run.
    }

    [Theory]
    [AllIsolations]
    public async Task A_rendezvous_write_in_a_worker_completes_when_the_host_takes_the_item(Isolation isolation)
    {
        TwoWorkers.Pair pair = await workers.For(isolation);
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>(capacity: 0);
        InterpreterChannel<int> started = Interpreters.CreateChannel<int>();
        Task<bool> write = pair.A.CallAsync(() => ChannelJobs.WriteBlocks(channel.Writer, started.Writer, 42));
        Assert.Equal(42, await started.Reader.ReadAsync().AsTask().WaitAsync(Timeout));
        await Task.Delay(100);
        Assert.False(write.IsCompleted); // No reader yet: the worker's WriteAsync still waits.
        Assert.Equal(42, await channel.Reader.ReadAsync().AsTask().WaitAsync(Timeout));
        Assert.True(await write.WaitAsync(Timeout));

        // A reader blocked in a worker lets the host's TryWrite hand over.
        Task<int> read = pair.B.CallAsync(() => ChannelJobs.ReadOne(channel.Reader, 20_000));
        Assert.True(await channel.Writer.WaitToWriteAsync().AsTask().WaitAsync(Timeout));
        Assert.True(channel.Writer.TryWrite(7));
        Assert.Equal(7, await read.WaitAsync(Timeout));
    }

    [Theory]
    [AllIsolations]
    public async Task A_completion_error_crosses_to_the_host_and_to_workers(Isolation isolation)
    {
        TwoWorkers.Pair pair = await workers.For(isolation);
        InterpreterChannel<int> fromWorker = Interpreters.CreateChannel<int>();
        await pair.A.CallAsync(() => ChannelJobs.Fail(fromWorker.Writer, "worker says no")).WaitAsync(Timeout);
        Exception error = await Assert.ThrowsAnyAsync<Exception>(() => fromWorker.Reader.Completion.WaitAsync(Timeout));
        if (isolation == Isolation.Process)
        {
            var remote = Assert.IsType<RemoteChannelException>(error);
            Assert.Equal(typeof(InvalidOperationException).FullName, remote.RemoteTypeName);
            Assert.Equal("worker says no", remote.RemoteMessage);
        }
        else
        {
            // In this process the error is the very exception the code completed the channel with.
            Assert.Equal("worker says no", Assert.IsType<InvalidOperationException>(error).Message);
        }

        InterpreterChannel<int> fromHost = Interpreters.CreateChannel<int>();
        Task<string> seen = pair.B.CallAsync(() => ChannelJobs.AwaitCompletion(fromHost.Reader));
        fromHost.Writer.Complete(new TimeoutException("host says no"));
        Assert.Equal(
            isolation == Isolation.Process ? "RemoteChannelException: System.TimeoutException: host says no" : "TimeoutException: host says no",
            await seen.WaitAsync(Timeout));
        await Assert.ThrowsAsync<TimeoutException>(() => fromHost.Reader.Completion); // In the host, the original.
    }

    [Theory]
    [AllIsolations]
    public async Task A_worker_sees_count_peek_and_try_read(Isolation isolation)
    {
        TwoWorkers.Pair pair = await workers.For(isolation);
        InterpreterChannel<int> queue = Interpreters.CreateChannel<int>();
        Assert.Equal(-1, await pair.A.CallAsync(() => ChannelJobs.TryReadOne(queue.Reader)).WaitAsync(Timeout));
        queue.Writer.TryWrite(4);
        queue.Writer.TryWrite(5);
        int[] seen = await pair.A.CallAsync(() => ChannelJobs.Inspect(queue)).WaitAsync(Timeout); // The whole channel: a queue.
        Assert.Equal(2, seen[0]);
        Assert.Equal(2, seen[1]);
        Assert.Equal(4, seen[2]);

        // What the worker fetched for the peek and did not read went back to the channel when its call ended.
        await WaitUntil(() => queue.Count == 2);
        Assert.Equal(4, await pair.A.CallAsync(() => ChannelJobs.TryReadOne(queue.Reader)).WaitAsync(Timeout));
        Assert.Equal(5, await pair.A.CallAsync(() => ChannelJobs.TryReadOne(queue.Reader)).WaitAsync(Timeout));
        Assert.Equal(-1, await pair.A.CallAsync(() => ChannelJobs.TryReadOne(queue.Reader)).WaitAsync(Timeout));
    }

    [Theory]
    [AllIsolations]
    public async Task Items_a_worker_fetched_and_did_not_read_go_back_for_other_readers(Isolation isolation)
    {
        TwoWorkers.Pair pair = await workers.For(isolation);
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>();
        for (int i = 0; i < 100; i++)
        {
            channel.Writer.TryWrite(i);
        }

        // ReadSome streams through 10 items, so its batches grow past what it reads; when its call ends the rest of
        // what it fetched returns to the head of the channel, in order.
        Assert.Equal(Enumerable.Range(0, 10), await pair.A.CallAsync(() => ChannelJobs.ReadSome(channel.Reader, 10)).WaitAsync(Timeout));
        await WaitUntil(() => channel.Count == 90);
        channel.Writer.Complete();
        Assert.Equal(Enumerable.Range(10, 90), await DrainAsync(channel));
    }

    private static async Task<List<int>> DrainAsync(InterpreterChannel<int> channel)
    {
        var all = new List<int>();
        await foreach (int item in channel.Reader.ReadAllAsync())
        {
            all.Add(item);
        }

        await channel.Reader.Completion.WaitAsync(Timeout);
        return all;
    }

    [Theory]
    [AllIsolations]
    public async Task Write_slots_a_worker_did_not_use_go_back(Isolation isolation)
    {
        TwoWorkers.Pair pair = await workers.For(isolation);
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>(capacity: 8);
        Assert.True(await pair.A.CallAsync(() => ChannelJobs.TryWriteOne(channel.Writer, 1)).WaitAsync(Timeout)); // Reserves a few slots, uses one.
        await WaitUntil(() =>
        {
            int written = 0;
            while (channel.Writer.TryWrite(100 + written))
            {
                written++;
            }

            return written == 7;
        });
        Assert.Equal(8, channel.Count);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for the condition");
            await Task.Delay(10);
        }
    }

    [Theory]
    [AllIsolations]
    public async Task A_timed_out_wait_in_a_worker_loses_nothing(Isolation isolation)
    {
        TwoWorkers.Pair pair = await workers.For(isolation);
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>();
        Assert.Equal("canceled", await pair.A.CallAsync(() => ChannelJobs.WaitToReadWithTimeout(channel.Reader, 200)).WaitAsync(Timeout));
        await Assert.ThrowsAsync<ExecutionFailedException>(() => pair.A.CallAsync(() => ChannelJobs.ReadOne(channel.Reader, 200)).WaitAsync(Timeout));

        channel.Writer.TryWrite(9);
        await Task.Delay(200);
        Assert.True(channel.Reader.TryRead(out int item)); // The withdrawn waits did not take it.
        Assert.Equal(9, item);
    }

    [Theory]
    [AllIsolations]
    public async Task A_worker_can_create_a_channel_and_hand_it_out(Isolation isolation)
    {
        TwoWorkers.Pair pair = await workers.For(isolation);
        ChannelReader<int> reader = await pair.A.CallAsync(() => ChannelJobs.CreateInWorker(10)).WaitAsync(Timeout);
        var all = new List<int>();
        await foreach (int item in reader.ReadAllAsync())
        {
            all.Add(item);
        }

        Assert.Equal(Enumerable.Range(0, 10), all);
    }

    [Theory]
    [AllIsolations]
    public async Task A_forwarding_worker_uses_try_read_and_try_write(Isolation isolation)
    {
        TwoWorkers.Pair pair = await workers.For(isolation);
        InterpreterChannel<int> input = Interpreters.CreateChannel<int>();
        InterpreterChannel<int> output = Interpreters.CreateChannel<int>(capacity: 10);
        Task<int> forward = pair.B.CallAsync(() => ChannelJobs.Forward(input.Reader, output.Writer));
        Task<long> sum = pair.A.CallAsync(() => ChannelJobs.Sum(output.Reader));
        for (int i = 0; i < 5000; i++)
        {
            input.Writer.TryWrite(i);
        }

        input.Writer.Complete();
        Assert.Equal(5000, await forward.WaitAsync(Timeout));
        output.Writer.Complete();
        Assert.Equal(5000L * 4999 / 2, await sum.WaitAsync(Timeout));
    }
}
