namespace ProcIsolates.Tests;

[Collection(nameof(Serial))]
public sealed class LoadTests
{
    [Fact]
    public async Task Sixty_four_interpreters_are_alive_at_once_and_all_answer()
    {
        var interpreters = new List<Interpreter>();
        try
        {
            // Eight at a time: a cold worker start is CPU-bound, and this machine may have two cores.
            for (int batch = 0; batch < 8; batch++)
            {
                interpreters.AddRange(await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Interpreters.CreateAsync())));
            }

            Assert.Equal(64, interpreters.Select(i => i.ProcessId).Distinct().Count());
            Assert.True(Interpreters.ListAll().Count >= 65);
            long[] ids = await Task.WhenAll(interpreters.Select(i => i.CallAsync(() => TestMethods.InterpreterId())));
            Assert.Equal(interpreters.Select(i => i.Id), ids);
        }
        finally
        {
            await Task.WhenAll(interpreters.Select(i => i.CloseAsync()));
        }

        Assert.Empty(await Processes.WaitAllGoneAsync(interpreters.Select(i => i.ProcessId), TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Ten_thousand_concurrent_calls_over_eight_interpreters_are_all_answered()
    {
        Interpreter[] interpreters = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Interpreters.CreateAsync()));
        try
        {
            int[] results = await Task.WhenAll(Enumerable.Range(0, 10_000).Select(i => interpreters[i % 8].CallAsync(() => TestMethods.Add(i, 1))));
            Assert.Equal(Enumerable.Range(1, 10_000), results);
        }
        finally
        {
            await Task.WhenAll(interpreters.Select(i => i.CloseAsync()));
        }
    }
}
