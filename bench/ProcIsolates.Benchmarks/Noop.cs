namespace ProcIsolates.Benchmarks;

/// <summary>The methods the benchmarks call in workers.</summary>
public static class Noop
{
    /// <summary>Does nothing: the empty call.</summary>
    public static void Nothing()
    {
    }
}
