namespace ProcIsolates.Tests;

/// <summary>
/// A cold create cancelled midway. Serial: it waits for the host's new child processes to go, and workers that tests
/// running alongside start meanwhile would count as new (it timed out once in CI, at 302 passing tests).
/// </summary>
[Collection(nameof(Serial))]
public sealed class ColdCreateCancellationTests
{
    [Fact]
    public async Task Cancelling_a_cold_create_midway_kills_the_worker_it_started()
    {
        int spares = Interpreters.SpareWorkers;
        Interpreters.SpareWorkers = 0;
        try
        {
            int[] before = Processes.ChildrenOf(Environment.ProcessId);
            using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Interpreters.CreateAsync(cancellationToken: cancel.Token));
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            while (Processes.ChildrenOf(Environment.ProcessId).Except(before).Any())
            {
                await Task.Delay(20, timeout.Token); // The worker it started is gone, not left running.
            }
        }
        finally
        {
            Interpreters.SpareWorkers = spares;
        }
    }
}
