using ProcIsolates;

// A host for tests that must kill their host: starts the interpreters asked for, prints their worker pids, then waits
// to be killed (or, with "exit", returns normally, or with "throw", dies of an unhandled exception).
// Usage: ProcIsolates.TestHost <count> [wait|exit|throw] [self] [grandchild] [cgroup]; "self" makes this executable host its own workers.
// Or: ProcIsolates.TestHost sandbox, which tries the strict sandbox from whatever user runs it (the tests run it as a
// throw-away uid) and prints one "name: outcome" line per attempt.
// Workers started from this executable come back here with a worker command line.
bool isWorker = args.Length > 0 && args[0] == "--procisolates-worker";
if ((isWorker || args.Contains("self")) && ProcIsolatesWorker.TryRun(args, out int workerExitCode))
{
    return workerExitCode;
}

if (args is ["sandbox"])
{
    return await SandboxProbe.RunAsync();
}

int count = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 1;
string ending = args.Length > 1 ? args[1] : "wait";
var interpreters = new List<Interpreter>();
for (int i = 0; i < count; i++)
{
    // With "cgroup", the last worker is sandboxed with limits, so it has cgroups of its own; their paths are printed.
    bool limited = args.Contains("cgroup") && i == count - 1;
    Interpreter interpreter = await Interpreters.CreateAsync(limited ? new InterpreterOptions { Sandbox = SandboxOptions.None with { MaxThreads = 200, MemoryLimit = 512L << 20 } } : null);
    if (limited)
    {
        foreach (string line in File.ReadLines($"/proc/{interpreter.ProcessId}/cgroup"))
        {
            Console.WriteLine("cgroup " + line);
        }
    }

    await interpreter.ExecAsync("Console.Write(1);");
    interpreters.Add(interpreter);
    Console.WriteLine($"pid {interpreter.ProcessId}");
}

// With "grandchild", the first worker starts a program of its own, which must not outlive this host either.
if (args.Contains("grandchild"))
{
    ExecResult started = await interpreters[0].ExecAsync("Console.Write(System.Diagnostics.Process.Start(\"sleep\", \"1000\").Id);");
    Console.WriteLine("grandchild " + started.Stdout);
}

// A large channel item, so that the host's spill directory holds a file; the test checks it does not outlive the host.
var spilled = Interpreters.CreateChannel<byte[]>();
spilled.Writer.TryWrite(new byte[300_000]);
Type store = typeof(Interpreters).Assembly.GetType("ProcIsolates.Channels.Spill.SpillStore", throwOnError: true)!;
Console.WriteLine("spill " + store.GetProperty("HostDirectory")!.GetValue(null));
Console.WriteLine("ready");
Console.Out.Flush();
switch (ending)
{
    case "exit":
        return 0;
    case "throw":
        throw new InvalidOperationException("the test host dies of an unhandled exception");
    default:
        Thread.Sleep(Timeout.Infinite);
        return 0;
}
