using System.Collections.Concurrent;

namespace ProcIsolates.Tests.Channels;

/// <summary>Two interpreters per isolation level, shared by a test class and created when a test first asks for them.</summary>
public sealed class TwoWorkers : IAsyncLifetime
{
    private readonly ConcurrentDictionary<Isolation, Lazy<Task<Pair>>> pairs = new();

    public Task<Pair> For(Isolation isolation) =>
        pairs.GetOrAdd(isolation, level => new Lazy<Task<Pair>>(async () =>
        {
            var options = new InterpreterOptions { Isolation = level };
            return new Pair(await Interpreters.CreateAsync(options), await Interpreters.CreateAsync(options));
        })).Value;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (Lazy<Task<Pair>> created in pairs.Values)
        {
            Pair pair = await created.Value;
            await pair.A.DisposeAsync();
            await pair.B.DisposeAsync();
        }
    }

    public sealed record Pair(Interpreter A, Interpreter B);
}
