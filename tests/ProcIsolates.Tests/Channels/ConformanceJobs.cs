using System.Threading.Channels;

namespace ProcIsolates.Tests.Channels;

/// <summary>Channel steps run inside an interpreter by <see cref="CrossProcessConformanceTests"/>; each reports what .NET's own channels would.</summary>
public static class ConformanceJobs
{
    /// <summary>Calls TryRead <paramref name="times"/> times; each result is the item or -1 for false.</summary>
    public static int[] TryReadTimes(ChannelReader<int> reader, int times)
    {
        var seen = new int[times];
        for (int i = 0; i < times; i++)
        {
            seen[i] = reader.TryRead(out int item) ? item : -1;
        }

        return seen;
    }

    /// <summary>The <c>while (TryRead)</c> loop people write.</summary>
    public static int[] DrainWithTryRead(ChannelReader<int> reader)
    {
        var seen = new List<int>();
        while (reader.TryRead(out int item))
        {
            seen.Add(item);
        }

        return [.. seen];
    }

    /// <summary>Calls TryWrite with 0, 1, 2, …; reports each answer.</summary>
    public static bool[] TryWriteTimes(ChannelWriter<int> writer, int times)
    {
        var answers = new bool[times];
        for (int i = 0; i < times; i++)
        {
            answers[i] = writer.TryWrite(i);
        }

        return answers;
    }

    /// <summary>
    /// What a writer end sees of a completed channel: WaitToWriteAsync, TryWrite, WriteAsync's exception type, and
    /// TryComplete, in the form "wait=…;try=…;write=…;complete=…".
    /// </summary>
    public static async Task<string> ProbeCompletedWriter(ChannelWriter<int> writer)
    {
        string wait;
        try
        {
            wait = (await writer.WaitToWriteAsync()).ToString();
        }
        catch (Exception ex)
        {
            wait = ex.GetType().Name;
        }

        bool tried = writer.TryWrite(1);
        string write = "none";
        try
        {
            await writer.WriteAsync(2);
        }
        catch (Exception ex)
        {
            write = ex.GetType().Name;
        }

        return $"wait={wait};try={tried};write={write};complete={writer.TryComplete()}";
    }

    /// <summary>What WaitToWriteAsync and WaitToReadAsync return for a token cancelled before the call.</summary>
    public static string WaitWithCancelledToken(ChannelWriter<int> writer, ChannelReader<int> reader)
    {
        using var source = new CancellationTokenSource();
        source.Cancel();
        ValueTask<bool> write = writer.WaitToWriteAsync(source.Token);
        ValueTask<bool> read = reader.WaitToReadAsync(source.Token);
        return $"write={write.IsCanceled};read={read.IsCanceled}";
    }

    /// <summary>How a reader sees a channel completed with <see cref="OperationCanceledException"/>: Completion's status, ReadAsync's exception.</summary>
    public static async Task<string> ObserveCancelledCompletion(ChannelReader<int> reader)
    {
        string read;
        try
        {
            await reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));
            read = "item";
        }
        catch (Exception ex)
        {
            read = ex is OperationCanceledException ? "canceled" : ex.GetType().Name;
        }

        try
        {
            await reader.Completion.WaitAsync(TimeSpan.FromSeconds(20));
        }
        catch (Exception)
        {
        }

        return $"completion={reader.Completion.Status};read={read}";
    }

    /// <summary>Completes the channel with a cancellation.</summary>
    public static bool CompleteCancelled(ChannelWriter<int> writer) => writer.TryComplete(new OperationCanceledException("stopped"));

    /// <summary>Writes 0..count-1 with TryWrite (unbounded), as fast as it can, and reports how many were accepted.</summary>
    public static int TryWriteAll(ChannelWriter<int> writer, int count)
    {
        int accepted = 0;
        for (int i = 0; i < count && writer.TryWrite(i); i++)
        {
            accepted++;
        }

        return accepted;
    }
}
