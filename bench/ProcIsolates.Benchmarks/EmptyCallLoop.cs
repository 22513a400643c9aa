using System.Diagnostics;

namespace ProcIsolates.Benchmarks;

/// <summary>The empty call as a user's loop runs it: one awaited call after another.</summary>
internal static class EmptyCallLoop
{
    /// <summary>Microseconds per call: the median of <paramref name="batchCount"/> batches of 500, after <paramref name="warmUpCalls"/> calls to warm both ends.</summary>
    public static async Task<double> MedianMicrosecondsAsync(Interpreter warm, int warmUpCalls = 3000, int batchCount = 10)
    {
        for (int i = 0; i < warmUpCalls; i++)
        {
            await warm.CallAsync(() => Noop.Nothing());
        }

        var batches = new List<double>();
        for (int i = 0; i < batchCount; i++)
        {
            var clock = Stopwatch.StartNew();
            for (int k = 0; k < 500; k++)
            {
                await warm.CallAsync(() => Noop.Nothing());
            }

            batches.Add(clock.Elapsed.TotalMicroseconds / 500);
        }

        double[] sorted = [.. batches.Order()];
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
