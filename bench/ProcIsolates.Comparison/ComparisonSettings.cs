namespace ProcIsolates.Comparison;

/// <summary>How long the comparison measures: <see cref="Full"/> for docs/benchmarks.md, <see cref="Quick"/> for the tour.</summary>
/// <param name="Creations">Interpreters created (and closed) to time create → ready.</param>
/// <param name="Calls">Empty calls timed per batch.</param>
/// <param name="Batches">Batches of calls and runs of each channel measurement (twice as many CPU runs); the median is reported.</param>
/// <param name="ChannelItems">64-byte items moved per channel run.</param>
/// <param name="PrimeLimit">The CPU-bound job: count the primes below this.</param>
/// <param name="IdleInterpreters">Interpreters kept alive to measure idle memory per interpreter.</param>
/// <param name="WarmUp">How long calls run before the timed ones.</param>
public sealed record ComparisonSettings(int Creations, int Calls, int Batches, int ChannelItems, int PrimeLimit, int IdleInterpreters, TimeSpan WarmUp)
{
    /// <summary>Settings for the published figures: a few minutes on two cores.</summary>
    public static ComparisonSettings Full { get; } = new(Creations: 10, Calls: 2_000, Batches: 5, ChannelItems: 100_000, PrimeLimit: 1_500_000, IdleInterpreters: 8, WarmUp: TimeSpan.FromSeconds(2));

    /// <summary>Settings for a quick look: under a minute.</summary>
    public static ComparisonSettings Quick { get; } = new(Creations: 3, Calls: 300, Batches: 3, ChannelItems: 10_000, PrimeLimit: 600_000, IdleInterpreters: 2, WarmUp: TimeSpan.FromSeconds(0.3));
}
