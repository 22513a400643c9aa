namespace ProcIsolates.Tests.Channels;

/// <summary>Two workers shared by a test class.</summary>
public sealed class TwoWorkers : IAsyncLifetime
{
    public Interpreter A { get; private set; } = null!;

    public Interpreter B { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        A = await Interpreters.CreateAsync();
        B = await Interpreters.CreateAsync();
    }

    public async Task DisposeAsync()
    {
        await A.DisposeAsync();
        await B.DisposeAsync();
    }
}
