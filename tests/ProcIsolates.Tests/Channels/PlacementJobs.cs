using System.Threading.Channels;

namespace ProcIsolates.Tests.Channels;

/// <summary>
/// One side of a channel behaviour, the same code wherever it runs: called directly in the host, or through
/// <c>CallAsync</c> in a worker (see <see cref="PlacementTests"/>).
/// </summary>
public static class PlacementJobs
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>Writes <paramref name="count"/> numbers from <paramref name="start"/>, the way the caller says, then completes if asked.</summary>
    public static async Task<int> Write(ChannelWriter<int> writer, int start, int count, bool awaitEachWrite, bool complete)
    {
        using var patience = new CancellationTokenSource(Patience);
        for (int i = start; i < start + count; i++)
        {
            if (awaitEachWrite)
            {
                await writer.WriteAsync(i, patience.Token);
            }
            else
            {
                while (!writer.TryWrite(i))
                {
                    if (!await writer.WaitToWriteAsync(patience.Token))
                    {
                        return i - start;
                    }
                }
            }
        }

        if (complete)
        {
            writer.Complete();
        }

        return count;
    }

    /// <summary>Reads to the end with <c>ReadAllAsync</c>: how many, whether in order from 0, and their sum.</summary>
    public static async Task<long[]> ReadAllSummary(ChannelReader<int> reader)
    {
        using var patience = new CancellationTokenSource(Patience);
        long count = 0, sum = 0, inOrder = 1;
        await foreach (int item in reader.ReadAllAsync(patience.Token))
        {
            inOrder &= item == count ? 1 : 0;
            count++;
            sum += item;
        }

        return [count, inOrder, sum];
    }

    /// <summary>Reads to the end and says how the channel ended: "items=N;end=completed" or "items=N;end=Type:message".</summary>
    public static async Task<string> ReadToTheEnd(ChannelReader<int> reader)
    {
        using var patience = new CancellationTokenSource(Patience);
        int items = 0;
        try
        {
            while (await reader.WaitToReadAsync(patience.Token))
            {
                while (reader.TryRead(out _))
                {
                    items++;
                }
            }

            await reader.Completion;
            return $"items={items};end=completed";
        }
        catch (Exception ex) when (!patience.IsCancellationRequested)
        {
            string? message = ex is RemoteChannelException remote ? remote.RemoteMessage : ex.Message;
            return $"items={items};end={ex.GetType().Name}:{message};completion={(reader.Completion.IsCanceled ? "canceled" : reader.Completion.IsFaulted ? "faulted" : "ran")}";
        }
    }

    /// <summary>Completes: normally (null), as cancelled ("cancel"), or with an error of that message.</summary>
    public static Task<bool> Complete(ChannelWriter<int> writer, string? error) => Task.FromResult(writer.TryComplete(error switch
    {
        null => null,
        "cancel" => new OperationCanceledException("stopped"),
        _ => new InvalidOperationException(error),
    }));

    /// <summary><paramref name="readers"/> concurrent readers to the end: every item any of them read.</summary>
    public static async Task<int[]> ReadWithMany(ChannelReader<int> reader, int readers)
    {
        using var patience = new CancellationTokenSource(Patience);
        int[][] each = await Task.WhenAll(Enumerable.Range(0, readers).Select(_ => Task.Run(async () =>
        {
            var mine = new List<int>();
            await foreach (int item in reader.ReadAllAsync(patience.Token))
            {
                mine.Add(item);
            }

            return mine.ToArray();
        })));
        return [.. each.SelectMany(items => items)];
    }

    /// <summary><paramref name="writers"/> concurrent writers, writer w writing w * each … w * each + each - 1; completes when all are done.</summary>
    public static async Task<int> WriteWithMany(ChannelWriter<int> writer, int writers, int each)
    {
        int[] written = await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(() => Write(writer, w * each, each, awaitEachWrite: w % 2 == 0, complete: false))));
        writer.Complete();
        return written.Sum();
    }

    /// <summary>A read of an empty channel, cancelled while it waits.</summary>
    public static async Task<string> CancelAWaitingRead(ChannelReader<int> reader)
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        try
        {
            int item = await reader.ReadAsync(cancel.Token);
            return "read " + item;
        }
        catch (OperationCanceledException ex) when (ex.CancellationToken == cancel.Token)
        {
            return "cancelled";
        }
    }

    /// <summary>On a full channel of capacity 1 (one item written here first), a write cancelled while it waits.</summary>
    public static async Task<string> CancelAWaitingWrite(ChannelWriter<int> writer)
    {
        await writer.WriteAsync(1);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        try
        {
            await writer.WriteAsync(2, cancel.Token);
            return "written";
        }
        catch (OperationCanceledException ex) when (ex.CancellationToken == cancel.Token)
        {
            return "cancelled";
        }
    }

    /// <summary>One item, waiting for it as long as it takes.</summary>
    public static async Task<int> ReadOne(ChannelReader<int> reader)
    {
        using var patience = new CancellationTokenSource(Patience);
        return await reader.ReadAsync(patience.Token);
    }

    /// <summary>With three items written: what TryPeek, Count and TryRead say, once the first is visible here.</summary>
    public static async Task<string> PeekCountRead(ChannelReader<int> reader)
    {
        using var patience = new CancellationTokenSource(Patience);
        await reader.WaitToReadAsync(patience.Token);
        bool peeked = reader.TryPeek(out int first);
        int countBefore = reader.Count;
        bool read = reader.TryRead(out int taken);
        return $"peek={peeked}:{first};count={countBefore};read={read}:{taken};count={reader.Count};canCount={reader.CanCount};canPeek={reader.CanPeek}";
    }

    /// <summary>Fills a bounded channel, then writes once more and says how that write ended.</summary>
    public static async Task<string> WriteOneMoreThanFits(ChannelWriter<int> writer, int capacity)
    {
        using var patience = new CancellationTokenSource(Patience);
        for (int i = 0; i < capacity; i++)
        {
            await writer.WriteAsync(i, patience.Token);
        }

        try
        {
            await writer.WriteAsync(-1, patience.Token);
            return "written";
        }
        catch (Exception ex) when (!patience.IsCancellationRequested)
        {
            return ex.GetType().Name;
        }
    }

    /// <summary>Reads with <c>ReadAsync</c> until it throws: how many items, and what it threw.</summary>
    public static async Task<string> ReadPastTheEnd(ChannelReader<int> reader)
    {
        using var patience = new CancellationTokenSource(Patience);
        int items = 0;
        try
        {
            while (true)
            {
                await reader.ReadAsync(patience.Token);
                items++;
            }
        }
        catch (Exception ex) when (!patience.IsCancellationRequested)
        {
            return $"items={items};end={ex.GetType().Name}";
        }
    }
}
