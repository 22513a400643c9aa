using ProcIsolates;

// The newcomer's first five minutes: the package alone, nothing else set up.
await using Interpreter interpreter = await Interpreters.CreateAsync();
ExecResult result = await interpreter.ExecAsync("Console.Write($\"exec in {Interpreters.Current.Id}\");");
int doubled = await interpreter.CallAsync(() => Calculator.Double(21));
Console.WriteLine($"{result.Stdout}; call gave {doubled}");

public static class Calculator
{
    public static int Double(int value) => value * 2;
}
