using System.Threading.Channels;

namespace ProcIsolates.Tests.Channels;

/// <summary>Channel ends passed into workers: host ↔ worker and worker ↔ worker.</summary>
public sealed class WorkerChannelTests(TwoWorkers workers) : IClassFixture<TwoWorkers>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_worker_reads_what_the_host_writes()
    {
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>();
        for (int i = 1; i <= 100; i++)
        {
            await channel.Writer.WriteAsync(i);
        }

        channel.Writer.Complete();
        Assert.Equal(5050, await workers.A.CallAsync(() => ChannelJobs.Sum(channel.Reader)).WaitAsync(Timeout));
        await channel.Reader.Completion.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Exec_code_reads_a_channel_end_passed_as_a_variable()
    {
        InterpreterChannel<string> jobs = Interpreters.CreateChannel<string>();
        jobs.Writer.TryWrite("spam");
        jobs.Writer.TryWrite("eggs");
        jobs.Writer.Complete();
        ExecResult result = await workers.A.ExecAsync(
            "await foreach (var j in jobs.ReadAllAsync()) { Console.WriteLine(j.ToUpperInvariant()); }",
            new Dictionary<string, object?> { ["jobs"] = jobs.Reader }).WaitAsync(Timeout);
        Assert.Equal("SPAM\nEGGS\n", result.Stdout.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task The_host_reads_what_a_worker_writes_and_sees_it_complete()
    {
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>();
        await workers.A.CallAsync(() => ChannelJobs.Produce(channel.Writer, 500, true)).WaitAsync(Timeout);
        Assert.Equal(500, channel.Count);
        Assert.Equal(Enumerable.Range(0, 500), await DrainAsync(channel));
    }

    [Fact]
    public async Task Workers_exchange_jobs_and_results_through_the_host()
    {
        InterpreterChannel<Job> jobs = Interpreters.CreateChannel<Job>(capacity: 100);
        InterpreterChannel<Result> results = Interpreters.CreateChannel<Result>();
        Task<int> consumerA = workers.A.CallAsync(() => ChannelJobs.Consume(jobs.Reader, results.Writer));
        Task<int> consumerB = workers.B.CallAsync(() => ChannelJobs.Consume(jobs.Reader, results.Writer));
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
        Assert.Subset(new HashSet<int> { workers.A.ProcessId, workers.B.ProcessId }, processes);
    }

    [Fact]
    public async Task Readers_that_take_their_time_share_the_jobs_instead_of_one_hoarding_them()
    {
        InterpreterChannel<Job> jobs = Interpreters.CreateChannel<Job>();
        for (int i = 0; i < 12; i++)
        {
            jobs.Writer.TryWrite(new Job(i, "slow"));
        }

        jobs.Writer.Complete();
        Task<int[]> a = workers.A.CallAsync(() => ChannelJobs.SlowConsume(jobs.Reader, 100));
        Task<int[]> b = workers.B.CallAsync(() => ChannelJobs.SlowConsume(jobs.Reader, 100));
        int[][] taken = await Task.WhenAll(a, b).WaitAsync(Timeout);
        Assert.Equal(Enumerable.Range(0, 12), taken.SelectMany(t => t).Order());
        Assert.All(taken, t => Assert.InRange(t.Length, 3, 9)); // A reader fetches one job at a time while it is slow.
    }

    [Fact]
    public async Task Worker_to_worker_in_order()
    {
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>(capacity: 64);
        Task produce = workers.A.CallAsync(() => ChannelJobs.ProduceFast(channel.Writer, 20_000, true));
        long sum = await workers.B.CallAsync(() => ChannelJobs.Sum(channel.Reader)).WaitAsync(Timeout);
        await produce.WaitAsync(Timeout);
        Assert.Equal(20_000L * 19_999 / 2, sum);
    }

    [Fact]
    public async Task An_end_passed_on_twice_still_reaches_the_same_channel()
    {
        InterpreterChannel<int> data = Interpreters.CreateChannel<int>();
        InterpreterChannel<ChannelReader<int>> via = Interpreters.CreateChannel<ChannelReader<int>>();
        await workers.A.CallAsync(() => ChannelJobs.PassOn(data.Reader, via.Writer)).WaitAsync(Timeout); // host → A → channel
        Task<long> sum = workers.B.CallAsync(() => ChannelJobs.ReceiveEndAndSum(via.Reader, 3)); // channel → B
        foreach (int item in new[] { 10, 20, 30 })
        {
            await data.Writer.WriteAsync(item);
        }

        Assert.Equal(60, await sum.WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_bounded_channel_blocks_a_writer_in_another_process()
    {
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>(capacity: 1);
        Assert.True(channel.Writer.TryWrite(1));
        Assert.False(await workers.A.CallAsync(() => ChannelJobs.TryWriteOne(channel.Writer, 2)).WaitAsync(Timeout));

        Task<bool> blocked = workers.A.CallAsync(() => ChannelJobs.WriteBlocks(channel.Writer, 3, 100));
        await Task.Delay(500);
        Assert.False(blocked.IsCompleted);
        Assert.Equal(1, await channel.Reader.ReadAsync());
        Assert.True(await blocked.WaitAsync(Timeout)); // It had waited while the channel was full.
        Assert.Equal(3, await channel.Reader.ReadAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_rendezvous_write_in_a_worker_completes_when_the_host_takes_the_item()
    {
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>(capacity: 0);
        Task<bool> write = workers.A.CallAsync(() => ChannelJobs.WriteBlocks(channel.Writer, 42, 300));
        await Task.Delay(400);
        Assert.False(write.IsCompleted); // No reader yet: the worker's WriteAsync still waits.
        Assert.Equal(42, await channel.Reader.ReadAsync().AsTask().WaitAsync(Timeout));
        Assert.True(await write.WaitAsync(Timeout));

        // A reader blocked in a worker lets the host's TryWrite hand over.
        Task<int> read = workers.B.CallAsync(() => ChannelJobs.ReadOne(channel.Reader, 20_000));
        Assert.True(await channel.Writer.WaitToWriteAsync().AsTask().WaitAsync(Timeout));
        Assert.True(channel.Writer.TryWrite(7));
        Assert.Equal(7, await read.WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_completion_error_crosses_to_the_host_and_to_workers()
    {
        InterpreterChannel<int> fromWorker = Interpreters.CreateChannel<int>();
        await workers.A.CallAsync(() => ChannelJobs.Fail(fromWorker.Writer, "worker says no")).WaitAsync(Timeout);
        RemoteChannelException error = await Assert.ThrowsAsync<RemoteChannelException>(() => fromWorker.Reader.Completion.WaitAsync(Timeout));
        Assert.Equal(typeof(InvalidOperationException).FullName, error.RemoteTypeName);
        Assert.Equal("worker says no", error.RemoteMessage);

        InterpreterChannel<int> fromHost = Interpreters.CreateChannel<int>();
        Task<string> seen = workers.B.CallAsync(() => ChannelJobs.AwaitCompletion(fromHost.Reader));
        fromHost.Writer.Complete(new TimeoutException("host says no"));
        Assert.Equal("RemoteChannelException: System.TimeoutException: host says no", await seen.WaitAsync(Timeout));
        await Assert.ThrowsAsync<TimeoutException>(() => fromHost.Reader.Completion); // In the host, the original.
    }

    [Fact]
    public async Task A_worker_sees_count_peek_and_try_read()
    {
        InterpreterChannel<int> queue = Interpreters.CreateChannel<int>();
        Assert.Equal(-1, await workers.A.CallAsync(() => ChannelJobs.TryReadOne(queue.Reader)).WaitAsync(Timeout));
        queue.Writer.TryWrite(4);
        queue.Writer.TryWrite(5);
        int[] seen = await workers.A.CallAsync(() => ChannelJobs.Inspect(queue)).WaitAsync(Timeout); // The whole channel: a queue.
        Assert.Equal(2, seen[0]);
        Assert.Equal(2, seen[1]);
        Assert.Equal(4, seen[2]);

        // What the worker fetched for the peek and did not read went back to the channel when its call ended.
        await WaitUntil(() => queue.Count == 2);
        Assert.Equal(4, await workers.A.CallAsync(() => ChannelJobs.TryReadOne(queue.Reader)).WaitAsync(Timeout));
        Assert.Equal(5, await workers.A.CallAsync(() => ChannelJobs.TryReadOne(queue.Reader)).WaitAsync(Timeout));
        Assert.Equal(-1, await workers.A.CallAsync(() => ChannelJobs.TryReadOne(queue.Reader)).WaitAsync(Timeout));
    }

    [Fact]
    public async Task Items_a_worker_fetched_and_did_not_read_go_back_for_other_readers()
    {
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>();
        for (int i = 0; i < 100; i++)
        {
            channel.Writer.TryWrite(i);
        }

        // ReadSome streams through 10 items, so its batches grow past what it reads; when its call ends the rest of
        // what it fetched returns to the head of the channel, in order.
        Assert.Equal(Enumerable.Range(0, 10), await workers.A.CallAsync(() => ChannelJobs.ReadSome(channel.Reader, 10)).WaitAsync(Timeout));
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

    [Fact]
    public async Task Write_slots_a_worker_did_not_use_go_back()
    {
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>(capacity: 8);
        Assert.True(await workers.A.CallAsync(() => ChannelJobs.TryWriteOne(channel.Writer, 1)).WaitAsync(Timeout)); // Reserves a few slots, uses one.
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

    [Fact]
    public async Task A_timed_out_wait_in_a_worker_loses_nothing()
    {
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>();
        Assert.Equal("canceled", await workers.A.CallAsync(() => ChannelJobs.WaitToReadWithTimeout(channel.Reader, 200)).WaitAsync(Timeout));
        await Assert.ThrowsAsync<ExecutionFailedException>(() => workers.A.CallAsync(() => ChannelJobs.ReadOne(channel.Reader, 200)).WaitAsync(Timeout));

        channel.Writer.TryWrite(9);
        await Task.Delay(200);
        Assert.True(channel.Reader.TryRead(out int item)); // The withdrawn waits did not take it.
        Assert.Equal(9, item);
    }

    [Fact]
    public async Task A_worker_can_create_a_channel_and_hand_it_out()
    {
        ChannelReader<int> reader = await workers.A.CallAsync(() => ChannelJobs.CreateInWorker(10)).WaitAsync(Timeout);
        var all = new List<int>();
        await foreach (int item in reader.ReadAllAsync())
        {
            all.Add(item);
        }

        Assert.Equal(Enumerable.Range(0, 10), all);
    }

    [Fact]
    public async Task A_forwarding_worker_uses_try_read_and_try_write()
    {
        InterpreterChannel<int> input = Interpreters.CreateChannel<int>();
        InterpreterChannel<int> output = Interpreters.CreateChannel<int>(capacity: 10);
        Task<int> forward = workers.B.CallAsync(() => ChannelJobs.Forward(input.Reader, output.Writer));
        Task<long> sum = workers.A.CallAsync(() => ChannelJobs.Sum(output.Reader));
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
