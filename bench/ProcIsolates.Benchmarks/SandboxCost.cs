using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace ProcIsolates.Benchmarks;

/// <summary>
/// What a sandbox costs, each sandbox beside no sandbox in the same run, interleaved so that the machine's drift hits
/// each alike: a cold create to its first call answered, a create that takes a spare (started in that sandbox) to its
/// first call, and the empty call round trip of a warm worker.
/// </summary>
internal static class SandboxCost
{
    public static async Task<string> RunAsync(int runs)
    {
        (string Name, SandboxOptions Sandbox)[] kinds =
        [
            ("none", SandboxOptions.None),
            ("Strict", SandboxOptions.Strict),
            ("Strict + MaxThreads 256, CpuLimit 2, MemoryLimit 512 MiB", SandboxOptions.Strict with { MaxThreads = 256, CpuLimit = 2, MemoryLimit = 512L << 20 }),
        ];
        kinds = [.. kinds.Where(kind => kind.Sandbox.IsSupported(out string reason) || Skipped(kind.Name, reason))];
        var cold = kinds.Select(_ => new List<double>()).ToArray();
        var spare = kinds.Select(_ => new List<double>()).ToArray();

        Interpreters.SpareWorkers = 0;
        for (int run = 0; run <= runs; run++)
        {
            for (int k = 0; k < kinds.Length; k++)
            {
                double elapsed = await CreateAndCallAsync(kinds[k].Sandbox);
                if (run > 0)
                {
                    cold[k].Add(elapsed); // Run 0 warms the host's side of the start path.
                }
            }
        }

        Interpreters.SpareWorkers = 1;
        for (int run = 0; run <= runs; run++)
        {
            for (int k = 0; k < kinds.Length; k++)
            {
                await using Interpreter primer = await Interpreters.CreateAsync(new InterpreterOptions { Sandbox = kinds[k].Sandbox });
                await Task.Delay(1500); // The spare it left behind starts and warms up.
                double elapsed = await CreateAndCallAsync(kinds[k].Sandbox);
                if (run > 0)
                {
                    spare[k].Add(elapsed);
                }
            }
        }

        Interpreters.SpareWorkers = 0;
        var calls = new double[kinds.Length];
        for (int k = 0; k < kinds.Length; k++)
        {
            calls[k] = await EmptyCallAsync(kinds[k].Sandbox);
        }

        double baseCold = Median(cold[0]), baseSpare = Median(spare[0]), baseCall = calls[0];
        var table = new StringBuilder($"{runs} runs each, interleaved; medians.\n\n")
            .Append("| sandbox | cold create -> first call | vs none | create with a spare -> first call | vs none | empty call | vs none |\n|---|---|---|---|---|---|---|\n");
        for (int k = 0; k < kinds.Length; k++)
        {
            table.AppendLine(CultureInfo.InvariantCulture,
                $"| {kinds[k].Name} | {Median(cold[k]):0.0} ms | {Median(cold[k]) / baseCold:0.00}x | {Median(spare[k]):0.00} ms | {Median(spare[k]) / baseSpare:0.00}x | {calls[k]:0.0} us | {calls[k] / baseCall:0.00}x |");
        }

        return table.ToString();
    }

    private static bool Skipped(string name, string reason)
    {
        Console.WriteLine($"skipped '{name}': {reason}");
        return false;
    }

    private static async Task<double> CreateAndCallAsync(SandboxOptions sandbox)
    {
        var clock = Stopwatch.StartNew();
        await using Interpreter interpreter = await Interpreters.CreateAsync(new InterpreterOptions { Sandbox = sandbox });
        await interpreter.CallAsync(() => Noop.Nothing());
        return clock.Elapsed.TotalMilliseconds;
    }

    private static async Task<double> EmptyCallAsync(SandboxOptions sandbox)
    {
        await using Interpreter warm = await Interpreters.CreateAsync(new InterpreterOptions { Sandbox = sandbox });
        return await EmptyCallLoop.MedianMicrosecondsAsync(warm);
    }

    private static double Median(List<double> values)
    {
        double[] sorted = [.. values.Order()];
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
