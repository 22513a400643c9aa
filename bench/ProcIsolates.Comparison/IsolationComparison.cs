using System.Diagnostics;

namespace ProcIsolates.Comparison;

/// <summary>
/// Measures, for each <see cref="Isolation"/> level in one run, what it costs: create → ready, an empty call, a warm
/// pool's hand-out, channel throughput host → interpreter and interpreter → interpreter, the speed-up of CPU-bound jobs
/// over cores, and idle memory per interpreter. A harness rather than BenchmarkDotNet: several figures are not times
/// (items/s, speed-up, memory), and the short setting must run inside the tour.
/// </summary>
public static class IsolationComparison
{
    private const int SmallItem = 64;

    /// <summary>Measures every level.</summary>
    /// <param name="settings">How long to measure.</param>
    /// <param name="progress">Told what is being measured.</param>
    /// <param name="levels">The levels to measure; all by default.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    /// <returns>One row per level, in the order Process, AssemblyLoadContext, Thread.</returns>
    public static async Task<IReadOnlyList<ComparisonRow>> RunAsync(ComparisonSettings settings, Action<string>? progress = null, IReadOnlyCollection<Isolation>? levels = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var rows = new List<ComparisonRow>();
        int spares = Interpreters.SpareWorkers;
        try
        {
            // A first pass on the quick setting, not recorded: the host's own code paths tier up under the JIT, so the
            // level measured first is not penalised for it.
            if (settings != ComparisonSettings.Quick)
            {
                progress?.Invoke("warm-up pass");
                foreach (Isolation isolation in Enum.GetValues<Isolation>().Where(level => levels is null || levels.Contains(level)))
                {
                    await MeasureAsync(isolation, ComparisonSettings.Quick, cancellationToken).ConfigureAwait(false);
                }
            }

            foreach (Isolation isolation in Enum.GetValues<Isolation>().Where(level => levels is null || levels.Contains(level)))
            {
                progress?.Invoke($"measuring {isolation}");
                rows.Add(await MeasureAsync(isolation, settings, cancellationToken).ConfigureAwait(false));
            }
        }
        finally
        {
            Interpreters.SpareWorkers = spares;
        }

        return rows;
    }

    private static async Task<ComparisonRow> MeasureAsync(Isolation isolation, ComparisonSettings settings, CancellationToken cancellationToken)
    {
        var options = new InterpreterOptions { Isolation = isolation };
        double create = await CreateToReadyAsync(options, settings, cancellationToken).ConfigureAwait(false);
        (double idle, double idlePrivate) = await IdleMegabytesAsync(options, settings, cancellationToken).ConfigureAwait(false);

        await using Interpreter first = await Interpreters.CreateAsync(options, cancellationToken).ConfigureAwait(false);
        await using Interpreter second = await Interpreters.CreateAsync(options, cancellationToken).ConfigureAwait(false);
        double call = await EmptyCallMicrosecondsAsync(() => first.CallAsync(() => ComparisonWork.Nothing(), cancellationToken), settings).ConfigureAwait(false);
        double hostToInterpreter = await MedianAsync(settings.Batches, () => HostToInterpreterAsync(first, settings.ChannelItems, cancellationToken)).ConfigureAwait(false);
        double interpreterToInterpreter = await MedianAsync(settings.Batches, () => InterpreterToInterpreterAsync(first, second, settings.ChannelItems, cancellationToken)).ConfigureAwait(false);

        int cores = Environment.ProcessorCount;
        await using var pool = new InterpreterPool(new InterpreterPoolOptions { MinInterpreters = cores, MaxInterpreters = cores, Isolation = isolation });
        await pool.WarmUpAsync(cancellationToken).ConfigureAwait(false);
        double poolCall = await EmptyCallMicrosecondsAsync(() => pool.CallAsync(() => ComparisonWork.Nothing(), cancellationToken), settings).ConfigureAwait(false);
        double speedUp = await SpeedUpAsync(pool, cores, settings, cancellationToken).ConfigureAwait(false);

        return new ComparisonRow(isolation, create, call, poolCall, hostToInterpreter, interpreterToInterpreter, speedUp, idle, idlePrivate);
    }

    private static async Task<double> CreateToReadyAsync(InterpreterOptions options, ComparisonSettings settings, CancellationToken cancellationToken)
    {
        // A spare worker starting in the background would take a core from every other measurement: only this one uses spares.
        Interpreters.SpareWorkers = options.Isolation == Isolation.Process ? 1 : 0;
        var times = new List<double>();
        for (int i = 0; i < settings.Creations + 1; i++)
        {
            if (options.Isolation == Isolation.Process)
            {
                // Let the background spare start, as an app that creates interpreters now and then would.
                await Task.Delay(1500, cancellationToken).ConfigureAwait(false);
            }

            var stopwatch = Stopwatch.StartNew();
            Interpreter interpreter = await Interpreters.CreateAsync(options, cancellationToken).ConfigureAwait(false);
            await interpreter.CallAsync(() => ComparisonWork.Nothing(), cancellationToken).ConfigureAwait(false);
            stopwatch.Stop();
            await interpreter.CloseAsync(cancellationToken).ConfigureAwait(false);
            if (i > 0)
            {
                times.Add(stopwatch.Elapsed.TotalMilliseconds); // The first one warms up the JIT of this path.
            }
        }

        Interpreters.SpareWorkers = 0;
        await Task.Delay(1000, cancellationToken).ConfigureAwait(false); // The surplus spare is closing.
        return Median(times);
    }

    private static async Task<double> EmptyCallMicrosecondsAsync(Func<Task> call, ComparisonSettings settings)
    {
        // Warm up for a while, not a count: a fresh worker's JIT tiers its code up only once calls have gone on for
        // some time, and an untiered worker would show its start-up rather than its steady state.
        var warmUp = Stopwatch.StartNew();
        while (warmUp.Elapsed < settings.WarmUp)
        {
            await call().ConfigureAwait(false);
        }

        var perCall = new List<double>();
        for (int batch = 0; batch < settings.Batches; batch++)
        {
            var stopwatch = Stopwatch.StartNew();
            for (int i = 0; i < settings.Calls; i++)
            {
                await call().ConfigureAwait(false);
            }

            perCall.Add(stopwatch.Elapsed.TotalMicroseconds / settings.Calls);
        }

        return Median(perCall);
    }

    private static async Task<double> HostToInterpreterAsync(Interpreter reader, int items, CancellationToken cancellationToken)
    {
        InterpreterChannel<byte[]> channel = Interpreters.CreateChannel<byte[]>();
        byte[] payload = new byte[SmallItem];
        var stopwatch = Stopwatch.StartNew();
        Task<int> consumed = reader.CallAsync(() => ComparisonWork.Consume(channel.Reader), cancellationToken);
        for (int i = 0; i < items; i++)
        {
            channel.Writer.TryWrite(payload);
        }

        channel.Writer.Complete();
        int count = await consumed.ConfigureAwait(false);
        stopwatch.Stop();
        return Checked(count, items) / stopwatch.Elapsed.TotalSeconds;
    }

    private static async Task<double> InterpreterToInterpreterAsync(Interpreter writer, Interpreter reader, int items, CancellationToken cancellationToken)
    {
        InterpreterChannel<byte[]> channel = Interpreters.CreateChannel<byte[]>();
        var stopwatch = Stopwatch.StartNew();
        Task<int> consumed = reader.CallAsync(() => ComparisonWork.Consume(channel.Reader), cancellationToken);
        await writer.CallAsync(() => ComparisonWork.Produce(channel.Writer, items, SmallItem), cancellationToken).ConfigureAwait(false);
        int count = await consumed.ConfigureAwait(false);
        stopwatch.Stop();
        return Checked(count, items) / stopwatch.Elapsed.TotalSeconds;
    }

    private static async Task<double> SpeedUpAsync(InterpreterPool pool, int jobs, ComparisonSettings settings, CancellationToken cancellationToken)
    {
        int limit = settings.PrimeLimit;
        await Task.WhenAll(Enumerable.Range(0, jobs).Select(_ => pool.CallAsync(() => ComparisonWork.CountPrimes(limit / 10), cancellationToken))).ConfigureAwait(false);
        double one = await MedianAsync(2 * settings.Batches, async () =>
        {
            var stopwatch = Stopwatch.StartNew();
            await pool.CallAsync(() => ComparisonWork.CountPrimes(limit), cancellationToken).ConfigureAwait(false);
            return stopwatch.Elapsed.TotalMilliseconds;
        }).ConfigureAwait(false);
        double all = await MedianAsync(2 * settings.Batches, async () =>
        {
            var stopwatch = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, jobs).Select(_ => pool.CallAsync(() => ComparisonWork.CountPrimes(limit), cancellationToken))).ConfigureAwait(false);
            return stopwatch.Elapsed.TotalMilliseconds;
        }).ConfigureAwait(false);
        return jobs * one / all;
    }

    private static async Task<(double Resident, double Private)> IdleMegabytesAsync(InterpreterOptions options, ComparisonSettings settings, CancellationToken cancellationToken)
    {
        // One created and closed first, so that the host's one-time costs (JIT, caches) are not counted as the interpreters'.
        await using (Interpreter warm = await Interpreters.CreateAsync(options, cancellationToken).ConfigureAwait(false))
        {
            await warm.CallAsync(() => ComparisonWork.Nothing(), cancellationToken).ConfigureAwait(false);
        }

        long before = HostWorkingSet();
        var interpreters = new List<Interpreter>();
        try
        {
            for (int i = 0; i < settings.IdleInterpreters; i++)
            {
                Interpreter interpreter = await Interpreters.CreateAsync(options, cancellationToken).ConfigureAwait(false);
                interpreters.Add(interpreter);
                await interpreter.CallAsync(() => ComparisonWork.Nothing(), cancellationToken).ConfigureAwait(false);
            }

            await Task.Delay(500, cancellationToken).ConfigureAwait(false); // Idle: let start-up work settle.
            const double MiB = 1024 * 1024;
            if (options.Isolation == Isolation.Process)
            {
                return (interpreters.Average(i => WorkingSet(i.ProcessId)) / MiB, interpreters.Average(i => PrivateBytes(i.ProcessId)) / MiB);
            }

            // In-process interpreters have nothing of their own but what the host grew by.
            double growth = Math.Max(0, HostWorkingSet() - before) / (double)settings.IdleInterpreters / MiB;
            return (growth, growth);
        }
        finally
        {
            foreach (Interpreter interpreter in interpreters)
            {
                await interpreter.CloseAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    private static long HostWorkingSet()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return WorkingSet(Environment.ProcessId);
    }

    private static long WorkingSet(int processId)
    {
        using var process = Process.GetProcessById(processId);
        process.Refresh();
        return process.WorkingSet64;
    }

    /// <summary>The process's unique set: pages no other process maps (Linux); its RSS elsewhere.</summary>
    private static long PrivateBytes(int processId)
    {
        try
        {
            long kilobytes = File.ReadLines($"/proc/{processId}/smaps_rollup")
                .Where(line => line.StartsWith("Private_Clean:", StringComparison.Ordinal) || line.StartsWith("Private_Dirty:", StringComparison.Ordinal))
                .Sum(line => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture));
            return kilobytes * 1024;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return WorkingSet(processId);
        }
    }

    private static int Checked(int count, int expected) =>
        count == expected ? count : throw new InvalidOperationException($"The reader got {count} items instead of {expected}.");

    private static async Task<double> MedianAsync(int runs, Func<Task<double>> measure)
    {
        await measure().ConfigureAwait(false); // Warm-up run, not counted.
        var values = new List<double>();
        for (int i = 0; i < runs; i++)
        {
            values.Add(await measure().ConfigureAwait(false));
        }

        return Median(values);
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        int middle = values.Count / 2;
        return values.Count % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    }
}
