namespace ProcIsolates.Tour;

/// <summary>CPU-bound work for the tour: counts primes by trial division.</summary>
public static class Primes
{
    /// <summary>Counts the primes below <paramref name="limit"/>.</summary>
    public static long CountBelow(long limit) => CountIn(2, limit);

    /// <summary>Counts the primes in [<paramref name="from"/>, <paramref name="to"/>).</summary>
    public static long CountIn(long from, long to)
    {
        long count = 0;
        for (long n = Math.Max(from, 2); n < to; n++)
        {
            if (IsPrime(n))
            {
                count++;
            }
        }

        return count;
    }

    private static bool IsPrime(long n)
    {
        if (n < 4)
        {
            return n >= 2;
        }

        if (n % 2 == 0)
        {
            return false;
        }

        for (long d = 3; d * d <= n; d += 2)
        {
            if (n % d == 0)
            {
                return false;
            }
        }

        return true;
    }
}
