using ProcIsolates;
using Xunit;

public static class Calculator
{
    public static int Double(int value) => value * 2;
}

public class ConsumerTests
{
    [Fact]
    public async Task Runs_code_in_an_interpreter_under_dotnet_test()
    {
        await using Interpreter interpreter = await Interpreters.CreateAsync();
        Assert.Equal("7", (await interpreter.ExecAsync("Console.Write(3 + 4);")).Stdout);
        Assert.Equal(42, await interpreter.CallAsync(() => Calculator.Double(21)));
    }
}
