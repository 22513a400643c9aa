namespace ProcIsolates.Tests;

/// <summary>One worker shared by a test class, for tests that do not change or kill it.</summary>
public sealed class SharedInterpreter : IAsyncLifetime
{
    public Interpreter Interpreter { get; private set; } = null!;

    public async Task InitializeAsync() => Interpreter = await Interpreters.CreateAsync();

    public async Task DisposeAsync() => await Interpreter.DisposeAsync();
}
