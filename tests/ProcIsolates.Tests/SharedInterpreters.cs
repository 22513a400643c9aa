using System.Collections.Concurrent;

namespace ProcIsolates.Tests;

/// <summary>One interpreter per isolation level, shared by a test class and created when a test first asks for it.</summary>
public sealed class SharedInterpreters : IAsyncLifetime
{
    private readonly ConcurrentDictionary<Isolation, Lazy<Task<Interpreter>>> interpreters = new();

    public Task<Interpreter> For(Isolation isolation) =>
        interpreters.GetOrAdd(isolation, level => new Lazy<Task<Interpreter>>(() => Interpreters.CreateAsync(new InterpreterOptions { Isolation = level }))).Value;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (Lazy<Task<Interpreter>> created in interpreters.Values)
        {
            await (await created.Value).DisposeAsync();
        }
    }
}
