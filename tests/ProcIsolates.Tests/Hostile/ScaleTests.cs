using System.Diagnostics;
using Xunit.Abstractions;

namespace ProcIsolates.Tests.Hostile;

/// <summary>Many interpreters created at once on a small machine: cold starts are queued, none is dropped.</summary>
[Collection(nameof(Serial))]
public sealed class ScaleTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Sixty_four_interpreters_created_at_once_all_start()
    {
        const int count = 64;
        var watch = Stopwatch.StartNew();
        Task<Interpreter>[] creates = Enumerable.Range(0, count)
            .Select(i => Interpreters.CreateAsync(new InterpreterOptions { Environment = new Dictionary<string, string?> { ["PROCISOLATES_TEST"] = "scale" } }))
            .ToArray();
        Interpreter[] created = [];
        try
        {
            await Task.WhenAll(creates).WaitAsync(TimeSpan.FromMinutes(4));
            created = creates.Select(t => t.Result).ToArray();
            TimeSpan elapsed = watch.Elapsed;
            int[] answers = await Task.WhenAll(created.Select((interpreter, i) => interpreter.CallAsync(() => TestMethods.Add(i, 1))));
            Assert.Equal(Enumerable.Range(1, count), answers);
            Assert.Equal(count, created.Select(i => i.ProcessId).Distinct().Count());
            using var self = Process.GetCurrentProcess();
            output.WriteLine($"{count} created at once in {elapsed.TotalSeconds:0.0} s; host working set {self.WorkingSet64 >> 20} MiB");
        }
        finally
        {
            await Task.WhenAll(creates.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result.DisposeAsync().AsTask()));
        }
    }
}
