using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ProcIsolates.Benchmarks;

/// <summary>
/// 20,000 tiny items on a pool of 2: <see cref="InterpreterPool.MapAsync{TItem, TResult}(IEnumerable{TItem}, System.Linq.Expressions.Expression{Func{TItem, TResult}}, int, bool, CancellationToken)"/>
/// with chunks of 16 and automatic chunks, a <c>CallAsync</c> per item (all at once, the loop without batching), and
/// Python's <c>ProcessPoolExecutor(2).map(f, items, chunksize=16)</c> in the same run. The median of five rounds each.
/// </summary>
internal static class MapThroughput
{
    private const int Rounds = 5;

    /// <summary>The rate of each measurement's first round, cold (the first one in a fresh process above all).</summary>
    private static readonly List<double> FirstRounds = [];

    public static int Square(int x) => x * x;

    public static async Task<string> RunAsync(int items)
    {
        await using var pool = new InterpreterPool(new InterpreterPoolOptions { MinInterpreters = 2, MaxInterpreters = 2 });
        await pool.WarmUpAsync();
        int[] data = Enumerable.Range(0, items).ToArray();

        double chunked = await RateAsync(items, async () => await CountAsync(pool.MapAsync(data, x => Square(x), chunkSize: 16)));
        double chunked256 = await RateAsync(items, async () => await CountAsync(pool.MapAsync(data, x => Square(x), chunkSize: 256)));
        double automatic = await RateAsync(items, async () => await CountAsync(pool.MapAsync(data, x => Square(x))));
        double perItem = await RateAsync(items, async () => (await Task.WhenAll(data.Select(x => pool.CallAsync(() => Square(x))))).Length);
        double? python = Python(items, 16);

        var table = new StringBuilder();
        table.AppendLine(CultureInfo.InvariantCulture, $"| {items:N0} tiny items, pool of 2 | items/s, warm | vs Python map(chunksize=16) |");
        table.AppendLine("|---|---|---|");
        Row("MapAsync, chunkSize 16", chunked);
        Row("MapAsync, chunkSize 256", chunked256);
        Row("MapAsync, automatic chunks (2,500)", automatic);
        Row("CallAsync per item, all at once", perItem);
        Row("Python ProcessPoolExecutor(2).map, chunksize=16", python);
        table.AppendLine();
        table.AppendLine(CultureInfo.InvariantCulture, $"First round of each, before warming: {string.Join(", ", FirstRounds.Select(r => r.ToString("N0", CultureInfo.InvariantCulture)))} items/s (the first one in a fresh process).");
        return table.ToString();

        void Row(string name, double? rate) => table.AppendLine(CultureInfo.InvariantCulture,
            $"| {name} | {(rate is { } r ? r.ToString("N0", CultureInfo.InvariantCulture) : "n/a")} | {(rate / python is { } ratio ? ratio.ToString("0.00", CultureInfo.InvariantCulture) + "x" : "n/a")} |");
    }

    private static async Task<int> CountAsync(IAsyncEnumerable<int> results)
    {
        int count = 0;
        await foreach (int _ in results)
        {
            count++;
        }

        return count;
    }

    private static async Task<double> RateAsync(int items, Func<Task<int>> round)
    {
        // The first round in this process, then warm: the JIT's tiers in host and workers. The first seconds of calls
        // run several times slower (tier-0 code, then instrumented code for PGO; promotion waits while new methods are
        // still being compiled), so warm for 8 s.
        var warming = Stopwatch.StartNew();
        int firstDone = await round();
        FirstRounds.Add(firstDone / warming.Elapsed.TotalSeconds);
        while (warming.Elapsed < TimeSpan.FromSeconds(8))
        {
            await round();
        }

        var rates = new List<double>();
        for (int i = 0; i < Rounds; i++)
        {
            var watch = Stopwatch.StartNew();
            int done = await round();
            rates.Add(done / watch.Elapsed.TotalSeconds);
            if (done != items)
            {
                throw new InvalidOperationException($"{done} of {items} results");
            }
        }

        rates.Sort();
        return rates[rates.Count / 2];
    }

    private static double? Python(int items, int chunkSize)
    {
        string script = Path.Combine(Repository.Root, "bench", "python", "map_baseline.py");
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string argument in new[] { script, items.ToString(CultureInfo.InvariantCulture), chunkSize.ToString(CultureInfo.InvariantCulture), Rounds.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            using Process python = Process.Start(start)!;
            string output = python.StandardOutput.ReadToEnd();
            python.WaitForExit();
            return python.ExitCode == 0 ? JsonDocument.Parse(output).RootElement.GetProperty("items_per_s").GetDouble() : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // No Python here.
        }
    }
}
