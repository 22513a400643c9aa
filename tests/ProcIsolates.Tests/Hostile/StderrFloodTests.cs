using System.Diagnostics;
using Xunit.Abstractions;

namespace ProcIsolates.Tests.Hostile;

/// <summary>
/// A worker that floods its standard error: the host reads it as bytes, cuts lines, passes on a bounded number a
/// second, and keeps a tail bounded in bytes. Serial: the figures are the whole test process's.
/// </summary>
[Collection(nameof(Serial))]
public sealed class StderrFloodTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Six_hundred_MiB_without_a_newline_grow_the_host_by_less_than_128_MiB()
    {
        var logs = new CapturingLoggerFactory();
        await using Interpreter flood = await Interpreters.CreateAsync(new InterpreterOptions { LoggerFactory = logs });
        await using Interpreter bystander = await Interpreters.CreateAsync();

        long growth = await PeakGrowthWhileAsync(() => flood.CallAsync(() => HostileJobs.FloodStderr(600, 0)));

        // The one line arrives cut, when the worker ends it; the host stayed small meanwhile.
        await flood.CallAsync(() => HostileJobs.FloodStderr(0, 0));
        await flood.CloseAsync();
        string line = await WaitForStderrLineAsync(logs, l => l.StartsWith("xxxx", StringComparison.Ordinal));
        output.WriteLine($"600 MiB without a newline: host peak growth {growth >> 20} MiB");
        Assert.Equal(4096 + " …[line cut]".Length, line.Length);
        Assert.True(growth < 128L << 20, $"the host grew by {growth >> 20} MiB");
        Assert.Equal(3, await bystander.CallAsync(() => TestMethods.Add(1, 2)));
    }

    [Fact]
    public async Task Four_hundred_MiB_of_short_lines_cost_the_host_little_CPU_and_the_dropped_lines_are_counted()
    {
        var logs = new CapturingLoggerFactory();
        await using Interpreter flood = await Interpreters.CreateAsync(new InterpreterOptions { LoggerFactory = logs });

        TimeSpan before = Process.GetCurrentProcess().TotalProcessorTime;
        long growth = await PeakGrowthWhileAsync(() => flood.CallAsync(() => HostileJobs.FloodStderr(400, 16)));
        await flood.CloseAsync(); // The end of its stderr: the count of lines not passed on is reported.
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime - before;

        output.WriteLine($"400 MiB of 16-byte lines: host CPU {cpu.TotalSeconds:0.00} s, peak growth {growth >> 20} MiB");
        string notice = await WaitForStderrLineAsync(logs, l => l.Contains("were not passed on", StringComparison.Ordinal));
        long passedOn = logs.Entries.Count(e => e.EventId.Id == 2);
        Assert.True(passedOn < 26_214_400, "most of the 26 million lines should have been dropped");
        Assert.Matches("^\\[ProcIsolates: [0-9]+ lines", notice);

        // The host's own CPU (this whole test process, the worker's writing excluded): 6.3 s before lines were bounded.
        Assert.True(cpu < TimeSpan.FromSeconds(3), $"the host spent {cpu.TotalSeconds:0.00} s of CPU on 400 MiB of stderr");
        Assert.True(growth < 128L << 20, $"the host grew by {growth >> 20} MiB");
    }

    [Fact]
    public async Task The_crash_report_keeps_only_the_last_lines_bounded_in_bytes()
    {
        await using Interpreter flood = await Interpreters.CreateAsync();
        InterpreterCrashedException crash = await Assert.ThrowsAsync<InterpreterCrashedException>(() => flood.ExecAsync("""
            using (var e = Console.OpenStandardError())
            {
                var line = System.Text.Encoding.UTF8.GetBytes(new string('y', 100_000) + "\n");
                for (int i = 0; i < 100; i++) e.Write(line);
                e.Write(System.Text.Encoding.UTF8.GetBytes("the last words\n"));
            }
            Environment.Exit(3);
            """).WaitAsync(Bound));

        Assert.EndsWith("the last words", crash.StderrTail.TrimEnd(), StringComparison.Ordinal);
        Assert.True(crash.StderrTail.Length <= 8192, $"the crash tail holds {crash.StderrTail.Length} characters");
    }

    /// <summary>Runs <paramref name="attack"/> while sampling the host's resident memory; returns the largest growth seen.</summary>
    private static async Task<long> PeakGrowthWhileAsync(Func<Task> attack)
    {
        GC.Collect();
        long baseline = ResidentBytes();
        long peak = baseline;
        using var done = new CancellationTokenSource();
        Task sampler = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                peak = Math.Max(peak, ResidentBytes());
                await Task.Delay(20);
            }
        });
        try
        {
            await attack().WaitAsync(Bound);
        }
        finally
        {
            done.Cancel();
            await sampler;
        }

        return Math.Max(peak, ResidentBytes()) - baseline;
    }

    private static long ResidentBytes()
    {
        using var self = Process.GetCurrentProcess();
        return self.WorkingSet64;
    }

    private static async Task<string> WaitForStderrLineAsync(CapturingLoggerFactory logs, Func<string, bool> match)
    {
        using var timeout = new CancellationTokenSource(Bound);
        while (true)
        {
            if (logs.Entries.FirstOrDefault(e => e.EventId.Id == 2 && e.Values.TryGetValue("Line", out object? l) && l is string s && match(s)) is { } entry)
            {
                return (string)entry.Values["Line"]!;
            }

            await Task.Delay(20, timeout.Token);
        }
    }
}
