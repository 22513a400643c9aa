using System.Threading.Channels;

namespace ProcIsolates.Tests.Channels;

public sealed record Job(int Number, string Text);

public sealed record Result(int Number, int Worker);

/// <summary>Static methods the channel tests run in workers.</summary>
public static class ChannelJobs
{
    /// <summary>Reads jobs until the channel ends, answers each; returns how many it handled.</summary>
    public static async Task<int> Consume(ChannelReader<Job> jobs, ChannelWriter<Result> results)
    {
        int handled = 0;
        await foreach (Job job in jobs.ReadAllAsync())
        {
            await results.WriteAsync(new Result(job.Number, Environment.ProcessId));
            handled++;
        }

        return handled;
    }

    /// <summary>Takes jobs one at a time, spending <paramref name="ms"/> on each; returns the numbers it took.</summary>
    public static async Task<int[]> SlowConsume(ChannelReader<Job> jobs, int ms)
    {
        var taken = new List<int>();
        await foreach (Job job in jobs.ReadAllAsync())
        {
            taken.Add(job.Number);
            await Task.Delay(ms);
        }

        return [.. taken];
    }

    /// <summary>Forwards every item to <paramref name="output"/>, with TryRead/TryWrite, until the input ends.</summary>
    public static async Task<int> Forward(ChannelReader<int> input, ChannelWriter<int> output)
    {
        int count = 0;
        while (await input.WaitToReadAsync())
        {
            while (input.TryRead(out int item))
            {
                while (!output.TryWrite(item))
                {
                    if (!await output.WaitToWriteAsync())
                    {
                        return count;
                    }
                }

                count++;
            }
        }

        return count;
    }

    /// <summary>Writes 0..count-1 and, if asked, completes the channel.</summary>
    public static async Task Produce(ChannelWriter<int> output, int count, bool complete)
    {
        for (int i = 0; i < count; i++)
        {
            await output.WriteAsync(i);
        }

        if (complete)
        {
            output.Complete();
        }
    }

    /// <summary>Writes 0..count-1 with TryWrite (waiting only when refused).</summary>
    public static async Task ProduceFast(ChannelWriter<int> output, int count, bool complete)
    {
        for (int i = 0; i < count; i++)
        {
            while (!output.TryWrite(i))
            {
                await output.WaitToWriteAsync();
            }
        }

        if (complete)
        {
            output.Complete();
        }
    }

    /// <summary>Reads everything until the channel ends and returns the sum.</summary>
    /// <summary>Awaits <paramref name="count"/> writes, then dies at once: no flush, no goodbye.</summary>
    public static async Task WriteThenFailFast(ChannelWriter<int> output, int count)
    {
        for (int i = 0; i < count; i++)
        {
            await output.WriteAsync(i);
        }

        Environment.FailFast("the writer dies right after its last awaited write");
    }

    public static async Task<long> Sum(ChannelReader<int> input)
    {
        long sum = 0;
        await foreach (int item in input.ReadAllAsync())
        {
            sum += item;
        }

        return sum;
    }

    /// <summary>Reads one item with ReadAsync.</summary>
    public static async Task<int> ReadOne(ChannelReader<int> input, int timeoutMs)
    {
        using var timeout = new CancellationTokenSource(timeoutMs);
        return await input.ReadAsync(timeout.Token);
    }

    /// <summary>Reads <paramref name="count"/> items as fast as it can (so its batches grow), and returns them.</summary>
    public static async Task<int[]> ReadSome(ChannelReader<int> input, int count)
    {
        var taken = new List<int>();
        while (taken.Count < count && await input.WaitToReadAsync())
        {
            while (taken.Count < count && input.TryRead(out int item))
            {
                taken.Add(item);
            }
        }

        return [.. taken];
    }

    /// <summary>TryRead once; -1 when it returns false.</summary>
    public static int TryReadOne(ChannelReader<int> input) => input.TryRead(out int item) ? item : -1;

    /// <summary>TryWrite once.</summary>
    public static bool TryWriteOne(ChannelWriter<int> output, int item) => output.TryWrite(item);

    /// <summary>TryWrite a value that cannot travel: "refused", "written", or the name of the exception.</summary>
    public static string TryWriteUnshareable(ChannelWriter<object> output)
    {
        try
        {
            return output.TryWrite(new MemoryStream()) ? "written" : "refused";
        }
        catch (Exception ex)
        {
            return ex.GetType().Name;
        }
    }

    /// <summary>What the worker sees of the channel: Count and TryPeek.</summary>
    public static int[] Inspect(InterpreterChannel<int> queue) => [queue.Count, queue.Reader.Count, queue.Reader.TryPeek(out int head) ? head : -1];

    /// <summary>Completes the writer with an error.</summary>
    public static void Fail(ChannelWriter<int> output, string message) => output.Complete(new InvalidOperationException(message));

    /// <summary>Waits for the reader's completion; returns what it saw.</summary>
    public static async Task<string> AwaitCompletion(ChannelReader<int> input)
    {
        try
        {
            await input.Completion.WaitAsync(TimeSpan.FromSeconds(20));
            return "completed";
        }
        catch (Exception ex)
        {
            return ex.GetType().Name + ": " + ex.Message;
        }
    }

    /// <summary>Creates a channel in the worker and returns it (its reader end).</summary>
    public static ChannelReader<int> CreateInWorker(int count)
    {
        InterpreterChannel<int> channel = Interpreters.CreateChannel<int>();
        for (int i = 0; i < count; i++)
        {
            channel.Writer.TryWrite(i);
        }

        channel.Writer.Complete();
        return channel.Reader;
    }

    /// <summary>Sends the reader end on through another channel.</summary>
    public static async Task PassOn(ChannelReader<int> end, ChannelWriter<ChannelReader<int>> via) => await via.WriteAsync(end);

    /// <summary>Receives a reader end from a channel, reads <paramref name="count"/> items from it and returns their sum.</summary>
    public static async Task<long> ReceiveEndAndSum(ChannelReader<ChannelReader<int>> via, int count)
    {
        ChannelReader<int> end = await via.ReadAsync();
        long sum = 0;
        for (int i = 0; i < count; i++)
        {
            sum += await end.ReadAsync();
        }

        return sum;
    }

    /// <summary>
    /// Starts a WriteAsync, tells <paramref name="started"/>, and waits for the write: returns true if the write was
    /// still pending when it started (it had to wait for room or a reader), false if it completed at once.
    /// </summary>
    public static async Task<bool> WriteBlocks(ChannelWriter<int> output, ChannelWriter<int> started, int item)
    {
        ValueTask write = output.WriteAsync(item);
        bool blocked = !write.IsCompleted;
        await started.WriteAsync(item);
        await write;
        return blocked;
    }

    /// <summary>Waits to read with a timeout; the exception name if it throws.</summary>
    public static async Task<string> WaitToReadWithTimeout(ChannelReader<int> input, int ms)
    {
        using var timeout = new CancellationTokenSource(ms);
        try
        {
            return (await input.WaitToReadAsync(timeout.Token)).ToString();
        }
        catch (OperationCanceledException)
        {
            return "canceled";
        }
    }

    /// <summary>Writes 0, 1, … with tokens cancelled after 0–19 ms, then completes; returns the items whose write succeeded.</summary>
    public static async Task<int[]> WriteWithRandomCancellations(ChannelWriter<int> output, int count)
    {
        var written = new List<int>();
        for (int i = 0; i < count; i++)
        {
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(Random.Shared.Next(0, 20)));
            try
            {
                await output.WriteAsync(i, cancel.Token);
                written.Add(i);
            }
            catch (OperationCanceledException)
            {
            }
        }

        output.Complete();
        return [.. written];
    }

    /// <summary>Writes with a token cancelled after <paramref name="ms"/>; whether the write happened.</summary>
    public static async Task<bool> WriteWithin(ChannelWriter<int> output, int item, int ms)
    {
        using var cancel = new CancellationTokenSource(ms);
        try
        {
            await output.WriteAsync(item, cancel.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
