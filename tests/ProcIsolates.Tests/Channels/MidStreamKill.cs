using System.Diagnostics;

namespace ProcIsolates.Tests.Channels;

/// <summary>
/// Forwards numbered items through an interpreter that is killed once a third of them came out, then through a fresh
/// one, and counts how often each number came out: every count must be 1.
/// </summary>
public static class MidStreamKill
{
    /// <param name="items">How many numbered items the input holds (0 to items − 1).</param>
    /// <param name="output">Where the forwarders write the numbers; completed here once both are done.</param>
    /// <param name="forward">Starts a forwarder in an interpreter; with <c>true</c>, the one that will be killed.</param>
    /// <param name="timeout">The longest any step may take.</param>
    /// <returns>How often each number came out.</returns>
    public static async Task<int[]> ForwardAsync(int items, InterpreterChannel<int> output, Func<Interpreter, bool, Task<int>> forward, TimeSpan timeout)
    {
        int[] seen = new int[items];
        int received = 0;
        Task collect = Task.Run(async () =>
        {
            await foreach (int item in output.Reader.ReadAllAsync())
            {
                seen[item]++;
                Interlocked.Increment(ref received);
            }
        });

        await using (Interpreter first = await Interpreters.CreateAsync())
        {
            Task<int> forwarding = forward(first, true);
            var deadline = Stopwatch.StartNew();
            while (Volatile.Read(ref received) < items / 3 && deadline.Elapsed < timeout)
            {
                await Task.Delay(1);
            }

            Process.GetProcessById(first.ProcessId).Kill(); // Mid-stream: items are in flight to it and from it.
            await Assert.ThrowsAsync<InterpreterCrashedException>(() => forwarding.WaitAsync(timeout));
        }

        int afterKill = Volatile.Read(ref received);
        Assert.InRange(afterKill, items / 3, items - 1);

        await using (Interpreter second = await Interpreters.CreateAsync())
        {
            await forward(second, false).WaitAsync(timeout);
        }

        output.Writer.Complete();
        await collect.WaitAsync(timeout);
        Assert.Equal(items, received);
        return seen;
    }
}
