using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using ProcIsolates.Benchmarks;

if (args is ["serve", var pipeName])
{
    await BareRpc.ServeAsync(pipeName);
    return 0;
}

if (args is ["rawsink", var sinkPipe])
{
    await RawPipe.SinkAsync(sinkPipe);
    return 0;
}

if (args is ["channels", ..])
{
    int small = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 200_000;
    int large = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1_000;
    string table = await ChannelThroughput.RunAsync(small, large);
    Console.WriteLine();
    Console.WriteLine(table);
    Directory.CreateDirectory("artifacts/bench");
    File.WriteAllText("artifacts/bench/channels.md", table);
    return 0;
}

if (args is ["map", ..])
{
    string table = await MapThroughput.RunAsync(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20_000);
    Console.WriteLine();
    Console.WriteLine(table);
    Directory.CreateDirectory("artifacts/bench");
    File.WriteAllText("artifacts/bench/map.md", table);
    return 0;
}

if (args is [StartupCost.FreshProcessArgument])
{
    return await StartupCost.RunFreshAsync();
}

if (args is ["idle-worker"])
{
    ProcIsolates.Interpreters.SpareWorkers = 0;
    await using ProcIsolates.Interpreter idle = await ProcIsolates.Interpreters.CreateAsync();
    await idle.CallAsync(() => Noop.Nothing());
    Console.WriteLine(idle.ProcessId);
    await Task.Delay(TimeSpan.FromSeconds(15));
    return 0;
}

if (args is ["startup-ab", var abRuns, .. var environments])
{
    Console.WriteLine(await StartupCost.CompareAsync(int.Parse(abRuns, CultureInfo.InvariantCulture), environments));
    return 0;
}

if (args is ["sandbox", ..])
{
    string table = await SandboxCost.RunAsync(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 9);
    Console.WriteLine();
    Console.WriteLine(table);
    Directory.CreateDirectory("artifacts/bench");
    File.WriteAllText("artifacts/bench/sandbox.md", table);
    return 0;
}

if (args is ["startup", ..])
{
    string table = await StartupCost.RunAsync(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 7);
    Console.WriteLine();
    Console.WriteLine(table);
    Directory.CreateDirectory("artifacts/bench");
    File.WriteAllText("artifacts/bench/startup.md", table);
    return 0;
}

if (args is ["compare", ..])
{
    return await ComparisonReport.RunAsync(args[1..]);
}

// In-process toolchain: the benchmarks start worker processes of their own, and the host under test must be this process.
IConfig config = DefaultConfig.Instance
    .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance))
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
Summary[] summaries = BenchmarkSwitcher.FromAssembly(typeof(Noop).Assembly).Run(args, config).ToArray();

// Python's multiprocessing, measured in the same run as the peer users compare with.
var python = RunPythonBaseline();
var report = new StringBuilder();
report.AppendLine("| measurement | median | baseline | ratio |");
report.AppendLine("|---|---|---|---|");
double? bare = Median(summaries, "BareStreamJsonRpc");
double? call = Median(summaries, "EmptyCall");
double? cold = Median(summaries, "CreateToFirstCall", "SpareWorkers=0");
double? warm = Median(summaries, "CreateToFirstCall", "SpareWorkers=1");
double? pySpawn = python?.GetProperty("spawn_start_ms").GetDouble() * 1_000_000;
double? pyPipe = python?.GetProperty("pipe_roundtrip_us").GetDouble() * 1_000;
Row("empty CallAsync round trip", call, "bare StreamJsonRpc", bare);
Row("empty CallAsync round trip", call, "Python multiprocessing.Pipe 16 B", pyPipe);
Row("bare StreamJsonRpc round trip", bare, "Python multiprocessing.Pipe 16 B", pyPipe);
Row("create -> first call, spare ready", warm, "Python spawn start", pySpawn);
Row("create -> first call, cold (SpareWorkers = 0)", cold, "Python spawn start", pySpawn);
SpeedUp("InterpreterPool, 2 CPU-bound jobs", "Pool", "threads of this process", "Threads");
Console.WriteLine();
Console.WriteLine(report);
Directory.CreateDirectory("artifacts/bench");
File.WriteAllText("artifacts/bench/summary.md", report.ToString());
return 0;

void Row(string name, double? value, string baselineName, double? baseline) =>
    report.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {Format(value)} | {baselineName}: {Format(baseline)} | {(value / baseline is { } r ? r.ToString("0.00", CultureInfo.InvariantCulture) + "x" : "n/a")} |");

void SpeedUp(string name, string method, string baselineName, string baselineMethod)
{
    double? one = Median(summaries, method, "Jobs=1");
    double? two = Median(summaries, method, "Jobs=2");
    double? baseOne = Median(summaries, baselineMethod, "Jobs=1");
    double? baseTwo = Median(summaries, baselineMethod, "Jobs=2");
    double? speedUp = 2 * one / two;
    double? baseSpeedUp = 2 * baseOne / baseTwo;
    report.AppendLine(CultureInfo.InvariantCulture, $"| {name}: speed-up over one job | {speedUp:0.00}x ({Format(two)} for 2, {Format(one)} for 1) | {baselineName}: {baseSpeedUp:0.00}x | {(speedUp / baseSpeedUp is { } r ? r.ToString("0.00", CultureInfo.InvariantCulture) + "x" : "n/a")} |");
}

static string Format(double? nanoseconds) => nanoseconds switch
{
    null => "n/a",
    >= 1_000_000 => (nanoseconds.Value / 1_000_000).ToString("0.0", CultureInfo.InvariantCulture) + " ms",
    _ => (nanoseconds.Value / 1_000).ToString("0.0", CultureInfo.InvariantCulture) + " us",
};

static double? Median(Summary[] summaries, string method, string? parameters = null) =>
    summaries.SelectMany(s => s.Reports)
        .Where(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == method
            && (parameters is null || r.BenchmarkCase.Parameters.DisplayInfo.Replace(" ", "", StringComparison.Ordinal).Contains(parameters.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal)))
        .Select(r => r.ResultStatistics?.Median)
        .FirstOrDefault(m => m is not null);

static JsonElement? RunPythonBaseline()
{
    string script = Path.Combine(Repository.Root, "bench", "python", "multiprocessing_baseline.py");
    try
    {
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Console.WriteLine("python3 multiprocessing baseline: " + output.Trim());
        return JsonDocument.Parse(output).RootElement;
    }
    catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or JsonException)
    {
        Console.WriteLine("python3 not available; Python baselines skipped: " + ex.Message);
        return null;
    }
}
