using System.Threading.Channels;

namespace ProcIsolates.Benchmarks;

/// <summary>What the channel throughput benchmark runs in its two workers.</summary>
public static class ChannelWork
{
    /// <summary>Writes <paramref name="count"/> items of <paramref name="size"/> bytes, the fast .NET way, then completes.</summary>
    public static async Task Produce(ChannelWriter<byte[]> output, int count, int size)
    {
        byte[] payload = new byte[size];
        Random.Shared.NextBytes(payload);
        for (int i = 0; i < count; i++)
        {
            while (!output.TryWrite(payload))
            {
                if (!await output.WaitToWriteAsync())
                {
                    return;
                }
            }
        }

        output.Complete();
    }

    /// <summary>Writes <paramref name="count"/> items of <paramref name="size"/> bytes the way most code does, one awaited <c>WriteAsync</c> each, then completes.</summary>
    public static async Task ProduceAwaiting(ChannelWriter<byte[]> output, int count, int size)
    {
        byte[] payload = new byte[size];
        Random.Shared.NextBytes(payload);
        for (int i = 0; i < count; i++)
        {
            await output.WriteAsync(payload);
        }

        output.Complete();
    }

    /// <summary>Reads until the channel ends; returns the bytes received.</summary>
    public static async Task<long> Consume(ChannelReader<byte[]> input)
    {
        long bytes = 0;
        while (await input.WaitToReadAsync())
        {
            while (input.TryRead(out byte[]? item))
            {
                bytes += item.Length;
            }
        }

        return bytes;
    }
}
