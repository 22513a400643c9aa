using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ProcIsolates.Benchmarks;

/// <summary>
/// Issue 17's figures in one run, each beside Python's in the same run (bench/python/startup_baseline.py): cold
/// creates (in a warm host, in a fresh process, eight at once), the first exec, code strings new and cached, the empty
/// call, a 1 MiB argument, and idle worker memory (USS/PSS). The loops are the ones a user writes.
/// </summary>
internal static class StartupCost
{
    /// <summary>The argument of a fresh child process that reports its first create and first exec as JSON.</summary>
    public const string FreshProcessArgument = "startup-fresh";

    /// <summary>
    /// Worker environment for experiments: <c>STARTUP_WORKER_ENV="DOTNET_TieredPGO=0;DOTNET_TC_CallCountThreshold=5"</c>
    /// passes these variables to every worker this harness starts (and not to the host).
    /// </summary>
    private static readonly InterpreterOptions Options = new()
    {
        Environment = (Environment.GetEnvironmentVariable("STARTUP_WORKER_ENV") ?? string.Empty)
            .Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(pair => pair[0], pair => (string?)pair[1]),
    };

    public static int Length(byte[] data) => data.Length;

    /// <summary>
    /// A/B of worker environments for cold creates, interleaved so that the machine's drift hits each alike:
    /// <c>startup-ab 15 "A=1;B=2" "A=0"</c>.
    /// </summary>
    public static async Task<string> CompareAsync(int runs, string[] environments)
    {
        Interpreters.SpareWorkers = 0;
        var options = environments.Select(e => new InterpreterOptions
        {
            Environment = e.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(pair => pair.Split('=', 2)).ToDictionary(pair => pair[0], pair => (string?)pair[1]),
        }).ToArray();
        var samples = options.Select(_ => new List<double>()).ToArray();
        for (int i = 0; i <= runs; i++)
        {
            for (int j = 0; j < options.Length; j++)
            {
                var clock = Stopwatch.StartNew();
                await using Interpreter interpreter = await Interpreters.CreateAsync(options[j]);
                await interpreter.CallAsync(() => Noop.Nothing());
                if (i > 0)
                {
                    samples[j].Add(clock.Elapsed.TotalMilliseconds);
                }
            }
        }

        // Then, per environment, a warm worker's empty call and four idle workers' memory.
        var calls = new double?[options.Length];
        var memory = new (double? Uss, double? Pss)[options.Length];
        for (int j = 0; j < options.Length; j++)
        {
            await using Interpreter warm = await Interpreters.CreateAsync(options[j]);
            calls[j] = await EmptyCallLoop.MedianMicrosecondsAsync(warm);
            memory[j] = await IdleMemoryAsync(4, options[j]);
        }

        var table = new StringBuilder("| worker environment | cold create -> first call, median | empty call | idle USS / PSS | cold creates |\n|---|---|---|---|---|\n");
        for (int j = 0; j < options.Length; j++)
        {
            table.AppendLine(CultureInfo.InvariantCulture, $"| `{environments[j]}` | {Median(samples[j]):0.0} ms | {calls[j]:0.0} us | {memory[j].Uss:0.0} / {memory[j].Pss:0.0} MB | {Join(samples[j])} |");
        }

        return table.ToString();
    }

    /// <summary>Run in a fresh process: its first create (host cold too), then its first exec (Roslyn cold).</summary>
    public static async Task<int> RunFreshAsync()
    {
        Interpreters.SpareWorkers = 0;
        var clock = Stopwatch.StartNew();
        await using Interpreter first = await Interpreters.CreateAsync(Options);
        await first.CallAsync(() => Noop.Nothing());
        double create = clock.Elapsed.TotalMilliseconds;

        await using Interpreter second = await Interpreters.CreateAsync(Options);
        clock.Restart();
        ExecResult result = await second.ExecAsync("int x = 1 + 1;");
        double exec = clock.Elapsed.TotalMilliseconds;
        Console.Error.WriteLine($"first exec {exec:0} ms, of which running in the worker {result.Duration.TotalMilliseconds:0} ms");
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, double> { ["create_ms"] = create, ["exec_ms"] = exec }));
        return 0;
    }

    public static async Task<string> RunAsync(int runs)
    {
        JsonElement? python = Python(runs);
        Interpreters.SpareWorkers = 0;

        var fresh = new List<(double Create, double Exec)>();
        for (int i = 0; i < runs; i++)
        {
            fresh.Add(Fresh());
        }

        // Warm host: the host's own code is compiled; each create starts a worker cold.
        await using (Interpreter warmUp = await Interpreters.CreateAsync(Options))
        {
            await warmUp.CallAsync(() => Noop.Nothing());
        }

        var cold = new List<double>();
        for (int i = 0; i < runs; i++)
        {
            var clock = Stopwatch.StartNew();
            await using Interpreter interpreter = await Interpreters.CreateAsync(Options);
            await interpreter.CallAsync(() => Noop.Nothing());
            cold.Add(clock.Elapsed.TotalMilliseconds);
        }

        var eight = new List<double>();
        for (int i = 0; i < 3; i++)
        {
            var clock = Stopwatch.StartNew();
            Interpreter[] all = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
            {
                Interpreter interpreter = await Interpreters.CreateAsync(Options);
                await interpreter.CallAsync(() => Noop.Nothing());
                return interpreter;
            }));
            eight.Add(clock.Elapsed.TotalMilliseconds);
            await Task.WhenAll(all.Select(x => x.CloseAsync()));
        }

        // With a spare ready (the default): each round waits until the replacement spare has answered its warm-up.
        Interpreters.SpareWorkers = 1;
        await (await Interpreters.CreateAsync(Options)).CloseAsync();
        var spareCreate = new List<double>();
        var spareFirstCall = new List<double>();
        for (int i = 0; i < runs * 2; i++)
        {
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            var clock = Stopwatch.StartNew();
            await using Interpreter interpreter = await Interpreters.CreateAsync(Options);
            spareCreate.Add(clock.Elapsed.TotalMilliseconds);
            await interpreter.CallAsync(() => Noop.Nothing());
            spareFirstCall.Add(clock.Elapsed.TotalMilliseconds);
        }

        Interpreters.SpareWorkers = 0;
        await using Interpreter warm = await Interpreters.CreateAsync(Options);
        await warm.ExecAsync("int y = 0;");
        var newCode = new List<double>();
        for (int i = 0; i < 30; i++)
        {
            var clock = Stopwatch.StartNew();
            await warm.ExecAsync($"int result = {i} * 2 + \"{i}\".Length;");
            newCode.Add(clock.Elapsed.TotalMilliseconds);
        }

        var cachedCode = new List<double>();
        for (int i = 0; i < 30; i++)
        {
            var clock = Stopwatch.StartNew();
            for (int j = 0; j < 50; j++)
            {
                await warm.ExecAsync("int result = 3 * 2;");
            }

            cachedCode.Add(clock.Elapsed.TotalMilliseconds / 50);
        }

        double call = await EmptyCallLoop.MedianMicrosecondsAsync(warm, warmUpCalls: 2000, batchCount: 20);

        byte[] mebibyte = new byte[1 << 20];
        await warm.CallAsync(() => Length(mebibyte));
        var large = new List<double>();
        for (int i = 0; i < 30; i++)
        {
            var clock = Stopwatch.StartNew();
            await warm.CallAsync(() => Length(mebibyte));
            large.Add(clock.Elapsed.TotalMilliseconds);
        }

        (double? uss, double? pss) = await IdleMemoryAsync(8);

        var table = new StringBuilder();
        table.AppendLine("| figure | ProcIsolates | Python, same run | ratio | target |");
        table.AppendLine("|---|---|---|---|---|");
        Row("cold create -> first call answered (`SpareWorkers = 0`, host warm)", Median(cold), "ms", "spawn start -> first message", Get("spawn_start_ms"), "<= 3x");
        Row("first create in a fresh process (host cold too)", Median(fresh.Select(f => f.Create)), "ms", "spawn start -> first message", Get("spawn_start_ms"), "<= 5x");
        Row("8 creates at once, cold", Median(eight), "ms", "8 spawns at once", Get("spawn8_ms"), "<= 2x");
        Row("create with a spare ready: `CreateAsync`", Median(spareCreate), "ms", "spawn start -> first message", Get("spawn_start_ms"), "1-3 ms");
        Row("create with a spare ready -> first call answered", Median(spareFirstCall), "ms", "spawn start -> first message", Get("spawn_start_ms"), "-");
        Row("first `ExecAsync` in a process (after `CreateAsync` returned)", Median(fresh.Select(f => f.Exec)), "ms", "-", null, "<= 500 ms");
        Row("a new code string, warm", Median(newCode), "ms", "`exec` of a new string in a pool process", Get("exec_new_ms"), "<= 5 ms");
        Row("a cached code string", Median(cachedCode), "ms", "`exec` of a new string in a pool process", Get("exec_new_ms"), "<= 0.2 ms");
        Row("empty `CallAsync` round trip", call, "us", "`ProcessPoolExecutor.submit().result()`", Get("submit_us"), "<= 60 us");
        Row("`CallAsync` with a 1 MiB `byte[]` argument", Median(large), "ms", "`submit(f, 1 MiB bytes)`", Get("submit_1mib_ms"), "<= 1x");
        Row("idle worker USS, each of 8", uss, "MB", "idle spawn child", Get("idle_uss_mb"), "-");
        Row("idle worker PSS, each of 8", pss, "MB", "idle spawn child", Get("idle_pss_mb"), "<= 15 MB");
        table.AppendLine();
        table.AppendLine(CultureInfo.InvariantCulture, $"Runs: {runs} fresh processes, {runs} cold creates, 3 bursts of 8. Cold creates: {Join(cold)} ms. Fresh processes, create: {Join(fresh.Select(f => f.Create))} ms; first exec: {Join(fresh.Select(f => f.Exec))} ms. Python: {python?.ToString() ?? "not available"}.");
        return table.ToString();

        double? Get(string name) => python is { } p && p.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;

        void Row(string name, double? value, string unit, string baselineName, double? baseline, string target) => table.AppendLine(CultureInfo.InvariantCulture,
            $"| {name} | {Format(value, unit)} | {baselineName}: {Format(baseline, unit)} | {(value / baseline is { } r ? r.ToString("0.00", CultureInfo.InvariantCulture) + "x" : "-")} | {target} |");
    }

    private static string Format(double? value, string unit) => value is { } v ? v.ToString(v >= 100 ? "0" : "0.0##", CultureInfo.InvariantCulture) + " " + unit : "-";

    private static string Join(IEnumerable<double> values) => string.Join(", ", values.Select(v => v.ToString("0", CultureInfo.InvariantCulture)));

    private static double? Median(IEnumerable<double> values)
    {
        double[] sorted = values.Order().ToArray();
        return sorted.Length == 0 ? null : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static (double Create, double Exec) Fresh()
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
        {
            start.ArgumentList.Add(typeof(StartupCost).Assembly.Location);
        }

        start.ArgumentList.Add(FreshProcessArgument);
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        using JsonDocument report = JsonDocument.Parse(output.Trim().Split('\n')[^1]);
        return (report.RootElement.GetProperty("create_ms").GetDouble(), report.RootElement.GetProperty("exec_ms").GetDouble());
    }

    private static async Task<(double? Uss, double? Pss)> IdleMemoryAsync(int count, InterpreterOptions? options = null)
    {
        if (!OperatingSystem.IsLinux())
        {
            return (null, null);
        }

        Interpreter[] all = await Task.WhenAll(Enumerable.Range(0, count).Select(async _ =>
        {
            Interpreter interpreter = await Interpreters.CreateAsync(options ?? Options);
            await interpreter.CallAsync(() => Noop.Nothing());
            return interpreter;
        }));
        await Task.Delay(TimeSpan.FromSeconds(2));
        var figures = all.Select(x => Smaps(x.ProcessId)).ToArray();
        await Task.WhenAll(all.Select(x => x.CloseAsync()));
        return (Median(figures.Select(f => f.Uss)), Median(figures.Select(f => f.Pss)));
    }

    private static (double Uss, double Pss) Smaps(int pid)
    {
        var values = new Dictionary<string, long>();
        foreach (string line in File.ReadLines($"/proc/{pid}/smaps_rollup"))
        {
            string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length >= 2 && parts[0].EndsWith(':') && long.TryParse(parts[1], out long kb))
            {
                values[parts[0][..^1]] = kb;
            }
        }

        return ((values.GetValueOrDefault("Private_Clean") + values.GetValueOrDefault("Private_Dirty")) / 1024.0, values.GetValueOrDefault("Pss") / 1024.0);
    }

    private static JsonElement? Python(int runs)
    {
        try
        {
            var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, UseShellExecute = false };
            start.ArgumentList.Add(Path.Combine(Repository.Root, "bench", "python", "startup_baseline.py"));
            start.ArgumentList.Add(runs.ToString(CultureInfo.InvariantCulture));
            using var process = Process.Start(start)!;
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            Console.WriteLine("python3 start-up baseline: " + output.Trim());
            return JsonDocument.Parse(output).RootElement.Clone();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or JsonException)
        {
            Console.WriteLine("python3 not available; Python baselines skipped: " + ex.Message);
            return null;
        }
    }
}
