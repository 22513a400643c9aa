namespace ProcIsolates.Tests;

/// <summary>What each isolation level isolates, checked side by side (the table in docs/isolation.md).</summary>
public sealed class IsolationTests
{
    [Theory]
    [AllIsolations]
    public async Task Statics_are_the_interpreters_own_except_in_thread_mode(Isolation isolation)
    {
        await using Interpreter first = await Interpreters.CreateAsync(new InterpreterOptions { Isolation = isolation });
        await using Interpreter second = await Interpreters.CreateAsync(new InterpreterOptions { Isolation = isolation });
        string marker = Guid.NewGuid().ToString("N");
        await first.CallAsync(() => TestMethods.SetMarker(marker));
        string? seenBySecond = await second.CallAsync(() => TestMethods.GetMarker());
        string? seenByFirst = await first.CallAsync(() => TestMethods.GetMarker());

        Assert.Equal(marker, seenByFirst);
        if (isolation == Isolation.Thread)
        {
            Assert.Equal(marker, seenBySecond);
            Assert.Equal(marker, TestMethods.GetMarker()); // The host's own static.
        }
        else
        {
            Assert.NotEqual(marker, seenBySecond);
            Assert.NotEqual(marker, TestMethods.GetMarker());
        }
    }

    [Theory]
    [AllIsolations]
    public async Task Kind_process_id_and_current_tell_where_the_code_runs(Isolation isolation)
    {
        await using Interpreter interpreter = await Interpreters.CreateAsync(new InterpreterOptions { Isolation = isolation });
        long currentId = await interpreter.CallAsync(() => TestMethods.CurrentInterpreterId());
        Assert.Equal(interpreter.Id, currentId);
        Assert.Equal(interpreter.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), (await interpreter.ExecAsync("Console.Write(Interpreters.Current.Id);")).Stdout);
        Assert.Equal(0, Interpreters.Current.Id); // Not changed for the host by the interpreter's code.
        Assert.Equal(
            isolation switch { Isolation.Process => InterpreterKind.Process, Isolation.AssemblyLoadContext => InterpreterKind.AssemblyLoadContext, _ => InterpreterKind.Thread },
            interpreter.Kind);
        Assert.Equal(isolation != Isolation.Process, interpreter.ProcessId == Environment.ProcessId);
        Assert.Equal(interpreter.ProcessId, await interpreter.CallAsync(() => Environment.ProcessId));
    }
}
