namespace ProcIsolates.Benchmarks;

/// <summary>The methods the benchmarks call in workers.</summary>
public static class Noop
{
    /// <summary>Does nothing: the empty call.</summary>
    public static void Nothing()
    {
    }
}

/// <summary>A fixed amount of CPU-bound work: counts primes by trial division.</summary>
public static class Work
{
    /// <summary>Counts the primes below <paramref name="limit"/>.</summary>
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
}
