using ProcIsolates;

// A single-file app has no ProcIsolates.Worker.dll on disk: it runs its workers itself.
if (ProcIsolatesWorker.TryRun(args, out int workerExitCode))
{
    return workerExitCode;
}

await using Interpreter interpreter = await Interpreters.CreateAsync();
ExecResult result = await interpreter.ExecAsync("Console.Write($\"exec in {Interpreters.Current.Id}\");");
int doubled = await interpreter.CallAsync(() => Calculator.Double(21));
Console.WriteLine($"{result.Stdout}; call gave {doubled}");
return 0;

public static class Calculator
{
    public static int Double(int value) => value * 2;
}
