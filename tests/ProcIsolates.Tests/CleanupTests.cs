namespace ProcIsolates.Tests;

[Collection(nameof(Serial))]
public sealed class CleanupTests
{
    [Fact]
    public async Task Fifty_create_close_cycles_leave_no_process_and_no_socket_file()
    {
        var pids = new List<int>();
        for (int i = 0; i < 50; i++)
        {
            Interpreter interpreter = await Interpreters.CreateAsync();
            pids.Add(interpreter.ProcessId);
            await interpreter.CloseAsync();
        }

        Assert.Equal(50, pids.Distinct().Count());
        Assert.Empty(await Processes.WaitAllGoneAsync(pids, TimeSpan.FromSeconds(1)));
        Assert.DoesNotContain(Interpreters.ListAll(), i => pids.Contains(i.ProcessId));

        // A socket file lives only while its worker connects; the spare being started may still hold one for a moment.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (Processes.SocketFilesOf(Environment.ProcessId).Length > 0)
        {
            await Task.Delay(20, timeout.Token);
        }
    }

    [Fact]
    public async Task A_spare_worker_is_started_ahead_and_becomes_the_next_interpreter()
    {
        Assert.Equal(1, Interpreters.SpareWorkers);
        Interpreters.SpareWorkers = 0; // Closes the spares of the sandboxes other tests used: they are children too.
        Interpreters.SpareWorkers = 1;
        await using Interpreter first = await Interpreters.CreateAsync();
        int spare = await WaitForSpareAsync(exclude: [first.ProcessId]);

        await using Interpreter second = await Interpreters.CreateAsync();
        Assert.Equal(spare, second.ProcessId);
        Assert.Equal(second.Id, await second.CallAsync(() => TestMethods.InterpreterId()));
        Assert.DoesNotContain(Interpreters.ListAll(), i => i.ProcessId == spare && i != second);
    }

    [Fact]
    public async Task With_no_spares_no_process_is_started_ahead_and_creation_still_works()
    {
        Interpreters.SpareWorkers = 0;
        try
        {
            await using Interpreter interpreter = await Interpreters.CreateAsync();
            Assert.Equal(3, await interpreter.CallAsync(() => TestMethods.Add(1, 2)));
            int[] others = await WaitForOnlyAsync([interpreter.ProcessId]);
            Assert.Equal([interpreter.ProcessId], others);
        }
        finally
        {
            Interpreters.SpareWorkers = 1;
        }
    }

    private static async Task<int> WaitForSpareAsync(int[] exclude)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        int[] live = Interpreters.ListAll().Select(i => i.ProcessId).ToArray();
        while (true)
        {
            int[] spares = Processes.ChildrenOf(Environment.ProcessId).Except(exclude).Except(live).ToArray();
            if (spares.Length == 1)
            {
                await Task.Delay(200, timeout.Token); // let it finish connecting
                return spares[0];
            }

            await Task.Delay(20, timeout.Token);
        }
    }

    /// <summary>Waits until the host's children are exactly <paramref name="expected"/> (spares being closed take a moment).</summary>
    private static async Task<int[]> WaitForOnlyAsync(int[] expected)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        int[] children;
        while (!(children = Processes.ChildrenOf(Environment.ProcessId)).Order().SequenceEqual(expected.Order()))
        {
            await Task.Delay(20, timeout.Token);
        }

        return children;
    }
}
