using System.Threading.Channels;

namespace ProcIsolates.Comparison;

/// <summary>What the comparison runs inside interpreters.</summary>
public static class ComparisonWork
{
    /// <summary>Does nothing: the empty call.</summary>
    public static void Nothing()
    {
    }

    /// <summary>A fixed amount of CPU-bound work: counts the primes below <paramref name="limit"/> by trial division.</summary>
    public static int CountPrimes(int limit)
    {
        int count = 0;
        for (int n = 2; n < limit; n++)
        {
            bool prime = true;
            for (int d = 2; d * d <= n; d++)
            {
                if (n % d == 0)
                {
                    prime = false;
                    break;
                }
            }

            if (prime)
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>Writes <paramref name="count"/> items of <paramref name="size"/> bytes, then completes the channel.</summary>
    public static async Task Produce(ChannelWriter<byte[]> output, int count, int size)
    {
        byte[] payload = new byte[size];
        for (int i = 0; i < count; i++)
        {
            while (!output.TryWrite(payload))
            {
                if (!await output.WaitToWriteAsync().ConfigureAwait(false))
                {
                    return;
                }
            }
        }

        output.Complete();
    }

    /// <summary>Reads until the channel ends; returns how many items came.</summary>
    public static async Task<int> Consume(ChannelReader<byte[]> input)
    {
        int items = 0;
        while (await input.WaitToReadAsync().ConfigureAwait(false))
        {
            while (input.TryRead(out _))
            {
                items++;
            }
        }

        return items;
    }
}
