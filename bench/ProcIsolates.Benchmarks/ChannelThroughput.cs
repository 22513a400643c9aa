using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace ProcIsolates.Benchmarks;

/// <summary>
/// Channel throughput, worker to worker through the host's broker, against a raw pipe between two processes and
/// Python's multiprocessing.Queue, all measured in one run. A harness rather than BenchmarkDotNet: each measurement
/// moves hundreds of megabytes between processes, and is timed as a whole (best and median of several runs).
/// </summary>
public static class ChannelThroughput
{
    private const int Runs = 3;

    /// <summary>Warm-up passes stop once two in a row are this close (or after <see cref="MaxWarmUpPasses"/>).</summary>
    private const double SteadyRatio = 0.85;

    private const int MaxWarmUpPasses = 6;

    public static async Task<string> RunAsync(int smallItems, int largeItems)
    {
        Interpreters.SpareWorkers = 0;
        await using Interpreter producer = await Interpreters.CreateAsync();
        await using Interpreter consumer = await Interpreters.CreateAsync();

        var rows = new List<(string Name, double Best, double Median, string Unit)>();
        rows.Add(Measure("interpreter channel, worker -> worker, 64 B, unbounded", smallItems, "items/s", () => WorkerToWorkerAsync(producer, consumer, smallItems, 64, null)));
        rows.Add(Measure("interpreter channel, worker -> worker, 64 B, capacity 1024", smallItems, "items/s", () => WorkerToWorkerAsync(producer, consumer, smallItems, 64, 1024)));
        rows.Add(Measure("interpreter channel, worker -> host, 64 B, unbounded", smallItems, "items/s", () => WorkerToHostAsync(producer, smallItems, 64)));
        rows.Add(Measure("interpreter channel, host -> worker, 64 B, unbounded", smallItems, "items/s", () => HostToWorkerAsync(consumer, smallItems, 64)));
        rows.Add(Measure("raw pipe, process -> process, 64 B", smallItems, "items/s", () => RawPipe.SendAsync(smallItems, 64)));
        rows.Add(Measure("interpreter channel, worker -> host, 64 B, unbounded, `await WriteAsync` loop", smallItems, "items/s", () => WorkerToHostAsync(producer, smallItems, 64, null, awaiting: true)));
        rows.Add(Measure("interpreter channel, worker -> host, 64 B, capacity 1024, `await WriteAsync` loop", smallItems, "items/s", () => WorkerToHostAsync(producer, smallItems, 64, 1024, awaiting: true)));
        rows.Add(Measure("interpreter channel, worker -> host, 64 B, capacity 1024, TryWrite loop", smallItems, "items/s", () => WorkerToHostAsync(producer, smallItems, 64, 1024, awaiting: false)));
        rows.Add(Measure("interpreter channel, worker -> worker, 64 B, unbounded, `await WriteAsync` loop", smallItems, "items/s", () => WorkerToWorkerAsync(producer, consumer, smallItems, 64, null, awaiting: true)));
        rows.Add(Measure("interpreter channel, worker -> worker, 1 MiB, capacity 16", largeItems * (1 << 20) / 1e6, "MB/s", () => WorkerToWorkerAsync(producer, consumer, largeItems, 1 << 20, 16)));
        rows.Add(Measure("raw pipe, process -> process, 1 MiB", largeItems * (1 << 20) / 1e6, "MB/s", () => RawPipe.SendAsync(largeItems, 1 << 20)));

        (double? pySmall, double? pyLarge) = PythonQueue(smallItems, largeItems);

        var table = new StringBuilder();
        table.AppendLine(CultureInfo.InvariantCulture, $"Channel throughput: {smallItems:N0} small items, {largeItems:N0} large items, best and median of {Runs} runs after warm-up");
        table.AppendLine();
        table.AppendLine("| measurement | best | median |");
        table.AppendLine("|---|---|---|");
        foreach ((string name, double best, double median, string unit) in rows)
        {
            table.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {best:N0} {unit} | {median:N0} {unit} |");
        }

        table.AppendLine(CultureInfo.InvariantCulture, $"| Python multiprocessing.Queue, 64 B | {pySmall:N0} items/s | |");
        table.AppendLine(CultureInfo.InvariantCulture, $"| Python multiprocessing.Queue, 1 MiB | {pyLarge:N0} MB/s | |");
        table.AppendLine();
        table.AppendLine("| ratio (best runs) | value |");
        table.AppendLine("|---|---|");
        Ratio("64 B unbounded / Python Queue", rows[0].Best, pySmall);
        Ratio("64 B capacity 1024 / Python Queue", rows[1].Best, pySmall);
        Ratio("64 B unbounded / raw pipe", rows[0].Best, rows[4].Best);
        Ratio("1 MiB / Python Queue", rows[9].Best, pyLarge);
        Ratio("1 MiB / raw pipe", rows[9].Best, rows[10].Best);
        Ratio("worker -> host unbounded: `await WriteAsync` / TryWrite loop", rows[5].Best, rows[2].Best);
        Ratio("worker -> host capacity 1024: `await WriteAsync` / TryWrite loop", rows[6].Best, rows[7].Best);
        Ratio("worker -> host unbounded `await WriteAsync` / Python Queue", rows[5].Best, pySmall);
        Ratio("worker -> host capacity 1024 `await WriteAsync` / Python Queue", rows[6].Best, pySmall);
        Ratio("worker -> worker unbounded `await WriteAsync` / Python Queue", rows[8].Best, pySmall);
        return table.ToString();

        void Ratio(string name, double value, double? baseline) =>
            table.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {(baseline is > 0 ? (value / baseline.Value).ToString("0.00", CultureInfo.InvariantCulture) + "x" : "n/a")} |");
    }

    private static (string, double, double, string) Measure(string name, double amount, string unit, Func<Task<TimeSpan>> run)
    {
        // Warm-up: tiered JIT in the host and the workers takes seconds of a hot loop to settle (tier 0, instrumented,
        // then optimized code); until then a run measures the compiler. Passes go on until two in a row agree.
        double previous = 0;
        for (int pass = 1; pass <= MaxWarmUpPasses; pass++)
        {
            double rate = amount / run().GetAwaiter().GetResult().TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name}: warm-up pass {pass}: {rate:N0} {unit}"));
            if (Math.Min(rate, previous) >= SteadyRatio * Math.Max(rate, previous))
            {
                break;
            }

            previous = rate;
        }

        var rates = new List<double>();
        for (int i = 0; i < Runs; i++)
        {
            TimeSpan elapsed = run().GetAwaiter().GetResult();
            rates.Add(amount / elapsed.TotalSeconds);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name}: {amount / elapsed.TotalSeconds:N0} {unit} ({elapsed.TotalMilliseconds:N0} ms)"));
        }

        rates.Sort();
        return (name, rates[^1], rates[rates.Count / 2], unit);
    }

    private static async Task<TimeSpan> WorkerToWorkerAsync(Interpreter producer, Interpreter consumer, int count, int size, int? capacity, bool awaiting = false)
    {
        InterpreterChannel<byte[]> channel = Interpreters.CreateChannel<byte[]>(capacity);
        var clock = Stopwatch.StartNew();
        Task<long> received = consumer.CallAsync(() => ChannelWork.Consume(channel.Reader));
        await (awaiting
            ? producer.CallAsync(() => ChannelWork.ProduceAwaiting(channel.Writer, count, size))
            : producer.CallAsync(() => ChannelWork.Produce(channel.Writer, count, size)));
        long bytes = await received;
        TimeSpan elapsed = clock.Elapsed;
        if (bytes != (long)count * size)
        {
            throw new InvalidOperationException($"The consumer received {bytes} bytes, not {(long)count * size}.");
        }

        return elapsed;
    }

    private static async Task<TimeSpan> WorkerToHostAsync(Interpreter producer, int count, int size, int? capacity = null, bool awaiting = false)
    {
        InterpreterChannel<byte[]> channel = Interpreters.CreateChannel<byte[]>(capacity);
        var clock = Stopwatch.StartNew();
        Task<long> received = ChannelWork.Consume(channel.Reader);
        await (awaiting
            ? producer.CallAsync(() => ChannelWork.ProduceAwaiting(channel.Writer, count, size))
            : producer.CallAsync(() => ChannelWork.Produce(channel.Writer, count, size)));
        await received;
        return clock.Elapsed;
    }

    private static async Task<TimeSpan> HostToWorkerAsync(Interpreter consumer, int count, int size)
    {
        InterpreterChannel<byte[]> channel = Interpreters.CreateChannel<byte[]>();
        var clock = Stopwatch.StartNew();
        Task<long> received = consumer.CallAsync(() => ChannelWork.Consume(channel.Reader));
        await ChannelWork.Produce(channel.Writer, count, size);
        await received;
        return clock.Elapsed;
    }

    private static (double? Small, double? Large) PythonQueue(int smallItems, int largeItems)
    {
        string script = Path.Combine(Repository.Root, "bench", "python", "queue_baseline.py");
        try
        {
            var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, UseShellExecute = false };
            foreach (string argument in new[] { script, "--small", smallItems.ToString(CultureInfo.InvariantCulture), "--large", largeItems.ToString(CultureInfo.InvariantCulture) })
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start)!;
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            Console.WriteLine(output.Trim());
            return (Find(output, "python-queue small items/s:"), Find(output, "python-queue large MB/s:"));
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            Console.WriteLine("python3 not available; the Python baseline is skipped: " + ex.Message);
            return (null, null);
        }

        static double? Find(string output, string prefix) =>
            output.Split('\n').Select(line => line.Trim()).FirstOrDefault(line => line.StartsWith(prefix, StringComparison.Ordinal)) is { } line
                ? double.Parse(line[prefix.Length..], CultureInfo.InvariantCulture)
                : null;
    }
}
