using System.Diagnostics;
using System.Threading.Channels;

namespace ProcIsolates.Tests.Channels;

/// <summary>Workers that die while they read or write, many channels at once, and workers that break the channel protocol.</summary>
[Collection(nameof(Serial))]
public sealed class ChannelRecoveryTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_reader_killed_mid_stream_loses_and_duplicates_nothing()
    {
        const int Items = 100_000;
        InterpreterChannel<int> input = Interpreters.CreateChannel<int>();
        InterpreterChannel<int> output = Interpreters.CreateChannel<int>();
        for (int i = 0; i < Items; i++)
        {
            Assert.True(input.Writer.TryWrite(i));
        }

        input.Writer.Complete();
        int[] seen = await MidStreamKill.ForwardAsync(
            Items,
            output,
            (interpreter, _) => interpreter.CallAsync(() => ChannelJobs.Forward(input.Reader, output.Writer)),
            Timeout);
        Assert.All(seen, count => Assert.Equal(1, count));
        await input.Reader.Completion.WaitAsync(Timeout);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(1_000)]
    public async Task Every_awaited_write_arrives_though_the_writer_dies_the_moment_the_last_completes(int? capacity)
    {
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>(capacity);
        await using Interpreter writer = await Interpreters.CreateAsync();

        // The last WriteAsync returns and the process ends the next instant: what it reported written is in the socket.
        await Assert.ThrowsAsync<InterpreterCrashedException>(() => writer.CallAsync(() => ChannelJobs.WriteThenFailFast(channel.Writer, 500)).WaitAsync(Timeout));

        for (int i = 0; i < 500; i++)
        {
            Assert.Equal(i, await channel.Reader.ReadAsync().AsTask().WaitAsync(Timeout));
        }

        Assert.False(channel.Reader.TryRead(out _));
    }

    [Fact]
    public async Task A_writer_killed_mid_stream_leaves_its_completed_writes_and_the_channel_open()
    {
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>();
        await using (Interpreter writer = await Interpreters.CreateAsync())
        {
            await writer.CallAsync(() => ChannelJobs.Produce(channel.Writer, 100, false)).WaitAsync(Timeout);
            Process.GetProcessById(writer.ProcessId).Kill();
        }

        // Every WriteAsync that completed had its item in the broker; the channel stays open for other writers.
        await Task.Delay(200);
        Assert.Equal(100, channel.Count);
        Assert.False(channel.Reader.Completion.IsCompleted);
        Assert.True(channel.Writer.TryWrite(100));
        channel.Writer.Complete();
        Assert.Equal(Enumerable.Range(0, 101).Sum(), await ChannelJobs.Sum(channel.Reader));
    }

    [Fact]
    public async Task A_hundred_channels_over_eight_interpreters()
    {
        const int Channels = 100;
        const int PerChannel = 200;
        Interpreter[] workers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Interpreters.CreateAsync()));
        try
        {
            InterpreterChannel<int>[] channels = [.. Enumerable.Range(0, Channels).Select(i => Interpreters.CreateChannel<int>(capacity: i % 3 == 0 ? null : i % 3 == 1 ? 16 : 0))];

            // Channel i is written by worker i % 8 and read by worker (i + 3) % 8.
            var writes = new List<Task>();
            var sums = new List<Task<long>>();
            for (int i = 0; i < Channels; i++)
            {
                ChannelWriter<int> writer = channels[i].Writer;
                ChannelReader<int> reader = channels[i].Reader;
                writes.Add(workers[i % 8].CallAsync(() => ChannelJobs.Produce(writer, PerChannel, true)));
                sums.Add(workers[(i + 3) % 8].CallAsync(() => ChannelJobs.Sum(reader)));
            }

            await Task.WhenAll(writes).WaitAsync(Timeout);
            long[] totals = await Task.WhenAll(sums).WaitAsync(Timeout);
            Assert.All(totals, total => Assert.Equal(PerChannel * (PerChannel - 1) / 2, total));
            foreach (InterpreterChannel<int> channel in channels)
            {
                await channel.Reader.Completion.WaitAsync(Timeout);
            }
        }
        finally
        {
            await Task.WhenAll(workers.Select(w => w.CloseAsync()));
        }
    }

    [Fact]
    public async Task A_worker_that_sends_garbage_on_the_channel_stream_is_killed_and_the_host_carries_on()
    {
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>();
        channel.Writer.TryWrite(1);
        await using Interpreter hostile = await Interpreters.CreateAsync();

        // Exec code reaches the worker's channel stream by reflection and writes a frame announcing 2 GB.
        Task<ExecResult> attack = hostile.ExecAsync("""
            var context = Type.GetType("ProcIsolates.Worker.WorkerContext, ProcIsolates.Worker")!;
            var pipe = (System.IO.Pipelines.IDuplexPipe)context.GetProperty("ChannelData")!.GetValue(null)!;
            await pipe.Output.WriteAsync(new byte[] { 0x7f, 0xff, 0xff, 0xff, 1, 2, 3 });
            Thread.Sleep(10_000);
            """);
        InterpreterCrashedException crash = await Assert.ThrowsAsync<InterpreterCrashedException>(() => attack.WaitAsync(Timeout));
        Assert.Contains("channel protocol", crash.Message, StringComparison.Ordinal);

        // The channel, and the host, are unharmed.
        Assert.Equal(1, await channel.Reader.ReadAsync());
        await using Interpreter next = await Interpreters.CreateAsync();
        channel.Writer.TryWrite(2);
        Assert.Equal(2, await next.CallAsync(() => ChannelJobs.ReadOne(channel.Reader, 5000)).WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_retract_of_a_write_that_is_not_waiting_changes_nothing()
    {
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>(capacity: 0);
        await using Interpreter worker = await Interpreters.CreateAsync();
        Task<bool> offer = worker.CallAsync(() => ChannelJobs.WriteWithin(channel.Writer, 7, 20_000)); // Waits for a reader.
        await LifecycleTests.WaitUntilAsync(() => channel.Reader.TryPeek(out _)); // As in .NET, Count stays 0: the offer is not an item.

        // Exec code in a second worker sends well-formed Retract frames for sequences that are not its own offers.
        await using Interpreter other = await Interpreters.CreateAsync();
        await other.ExecAsync(
            """
            var context = Type.GetType("ProcIsolates.Worker.WorkerContext, ProcIsolates.Worker")!;
            var pipe = (System.IO.Pipelines.IDuplexPipe)context.GetProperty("ChannelData")!.GetValue(null)!;
            foreach (long sequence in new long[] { 0, 1, 2, 42 })
            {
                new ProcIsolates.Protocol.Channels.ChannelFrame { Op = ProcIsolates.Protocol.Channels.ChannelOp.Retract, Channel = id, A = sequence }.WriteTo(pipe.Output);
            }

            await pipe.Output.FlushAsync();
            """,
            new Dictionary<string, object?> { ["id"] = channel.Id }).WaitAsync(Timeout);

        // The offer is still there for a reader, and both workers still work.
        Assert.True(channel.Reader.TryPeek(out int peeked));
        Assert.Equal(7, peeked);
        Assert.Equal(7, await channel.Reader.ReadAsync().AsTask().WaitAsync(Timeout));
        Assert.True(await offer.WaitAsync(Timeout));
        Assert.Equal(3, await other.CallAsync(() => TestMethods.Add(1, 2)));
    }
}
