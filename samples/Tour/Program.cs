using System.Diagnostics;
using ProcIsolates;
using ProcIsolates.Comparison;
using ProcIsolates.Tour;

// A walk through ProcIsolates, in the order of Python's sub-interpreter walk-through: create interpreters,
// run code in them, capture output, call methods, run in parallel, clean up.
Console.WriteLine("== The main interpreter is the host process");
Console.WriteLine($"Interpreters.Main = {Interpreters.Main}");

Console.WriteLine();
Console.WriteLine("== Create an interpreter: a worker process of its own");
var stopwatch = Stopwatch.StartNew();
await using Interpreter interp = await Interpreters.CreateAsync();
Console.WriteLine($"created {interp} in {stopwatch.ElapsedMilliseconds} ms; state {interp.State}");

Console.WriteLine();
Console.WriteLine("== Run code in it and capture its output");
ExecResult result = await interp.ExecAsync("Console.WriteLine(Interpreters.Current.Id); Console.Error.WriteLine(\"to stderr\");");
Console.WriteLine($"stdout: {result.Stdout.TrimEnd()}   stderr: {result.Stderr.TrimEnd()}   ran {result.Duration.TotalMilliseconds:0.###} ms");

Console.WriteLine();
Console.WriteLine("== Pass variables in");
result = await interp.ExecAsync("Console.WriteLine($\"{name} has {numbers.Sum()} points\");", new Dictionary<string, object?> { ["name"] = "spam", ["numbers"] = new[] { 1, 2, 3 } });
Console.Write(result.Stdout);

Console.WriteLine();
Console.WriteLine("== Statics are per interpreter: the worker's Jobs counter is not the host's");
await interp.CallAsync(() => Jobs.Record());
await interp.CallAsync(() => Jobs.Record());
Console.WriteLine($"Jobs.Done in the worker: {await interp.CallAsync(() => Jobs.Done)}; in the host: {Jobs.Done}");
await interp.CallAsync(() => Jobs.Reset());
Console.WriteLine($"after Jobs.Reset() in the worker: {await interp.CallAsync(() => Jobs.Done)}");

Console.WriteLine();
Console.WriteLine("== Call your own static methods; arguments and results travel as MessagePack");
stopwatch.Restart();
long primes = await interp.CallAsync(() => Primes.CountBelow(2_000_000));
Console.WriteLine($"Primes.CountBelow(2_000_000) = {primes} (in the worker, {stopwatch.ElapsedMilliseconds} ms)");

Console.WriteLine();
Console.WriteLine("== List the interpreters");
await using Interpreter second = await Interpreters.CreateAsync();
foreach (Interpreter each in Interpreters.ListAll())
{
    Console.WriteLine($"  {each}");
}

Console.WriteLine();
Console.WriteLine("== True parallelism: two 1-second jobs in two interpreters");
await interp.ExecAsync("Thread.Sleep(1000);"); // Compiles the code once, in the host; later execs of it reuse the assembly.
stopwatch.Restart();
await Task.WhenAll(interp.ExecAsync("Thread.Sleep(1000);"), second.ExecAsync("Thread.Sleep(1000);"));
Console.WriteLine($"both done in {stopwatch.ElapsedMilliseconds} ms");
stopwatch.Restart();
long[] halves = await Task.WhenAll(interp.CallAsync(() => Primes.CountIn(0, 1_500_000)), second.CallAsync(() => Primes.CountIn(1_500_000, 3_000_000)));
Console.WriteLine($"primes below 3,000,000 counted in two halves: {halves.Sum()} in {stopwatch.ElapsedMilliseconds} ms");

Console.WriteLine();
Console.WriteLine("== Errors come back typed");
try
{
    await interp.ExecAsync("throw new InvalidOperationException(\"boom\");");
}
catch (ExecutionFailedException ex)
{
    Console.WriteLine($"ExecutionFailedException: remote {ex.RemoteTypeName}: {ex.RemoteMessage}");
}

try
{
    await interp.CallAsync(() => Jobs.Run(() => Console.WriteLine("a delegate cannot cross processes")));
}
catch (NotShareableException ex)
{
    Console.WriteLine($"NotShareableException: {ex.Message}");
}

Console.WriteLine();
Console.WriteLine("== Cancellation reaches the code through its token");
using (var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300)))
{
    try
    {
        await interp.ExecAsync("await Task.Delay(10_000, cancellationToken);", cancellationToken: cancel.Token);
    }
    catch (OperationCanceledException)
    {
        Console.WriteLine($"cancelled after 300 ms; the interpreter is still {interp.State}");
    }
}

Console.WriteLine();
Console.WriteLine("== A crash stays in its worker");
// Its stderr (the runtime's crash report) goes to a logger that drops it, to keep the tour readable; the exception keeps its tail.
await using (Interpreter fragile = await Interpreters.CreateAsync(new InterpreterOptions { LoggerFactory = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance }))
{
    fragile.Crashed += (_, e) => Console.WriteLine($"Crashed event: exit code {e.Crash.ExitCode}, signal {e.Crash.Signal}");
    try
    {
        await fragile.ExecAsync("Environment.FailFast(\"a fatal error in the worker\");");
    }
    catch (InterpreterCrashedException ex)
    {
        Console.WriteLine($"InterpreterCrashedException: signal {ex.Signal}; stderr ends with: {ex.StderrTail.Split('\n')[0]}");
    }

    await Task.Delay(100);
    Console.WriteLine($"{fragile.State}; the host and {interp} go on: {await interp.CallAsync(() => Primes.CountBelow(100))} primes below 100");
}

Console.WriteLine();
Console.WriteLine("== Per-interpreter limits: a 64 MiB heap");
await using (Interpreter small = await Interpreters.CreateAsync(new InterpreterOptions { MemoryLimit = 64L * 1024 * 1024 }))
{
    try
    {
        await small.ExecAsync("var hog = new byte[200_000_000];");
    }
    catch (ExecutionFailedException ex)
    {
        Console.WriteLine($"ExecutionFailedException: {ex.RemoteTypeName} in the worker; it is still {small.State}");
    }
}

Console.WriteLine();
Console.WriteLine("== Channels: the host brokers them; items travel as MessagePack, each to exactly one reader");
InterpreterChannel<byte[]> channel = Interpreters.CreateChannel<byte[]>(); // unbounded
channel.Writer.TryWrite("spam"u8.ToArray());                                // send_nowait
byte[] got = await channel.Reader.ReadAsync();                                // recv
Console.WriteLine($"{channel} carried \"{System.Text.Encoding.UTF8.GetString(got)}\"");

InterpreterChannel<Job> jobs = Interpreters.CreateChannel<Job>(capacity: 100); // bounded: writers wait while it is full
InterpreterChannel<Result> results = Interpreters.CreateChannel<Result>(capacity: 0); // rendezvous: a write waits for its reader
stopwatch.Restart();
Task<int>[] consumers = [interp.CallAsync(() => PrimeWorker.Run(jobs.Reader, results.Writer)), second.CallAsync(() => PrimeWorker.Run(jobs.Reader, results.Writer))];
for (long from = 0; from < 3_000_000; from += 250_000)
{
    await jobs.Writer.WriteAsync(new Job(from, from + 250_000));
}

jobs.Writer.Complete(); // Readers drain what is left, then their ReadAllAsync ends.
_ = Task.WhenAll(consumers).ContinueWith(_ => results.Writer.Complete(), TaskScheduler.Default);
long total = 0;
var byInterpreter = new SortedDictionary<long, int>();
await foreach (Result r in results.Reader.ReadAllAsync())
{
    total += r.Primes;
    byInterpreter[r.Interpreter] = byInterpreter.GetValueOrDefault(r.Interpreter) + 1;
}

Console.WriteLine($"12 jobs through two workers: {total} primes below 3,000,000 in {stopwatch.ElapsedMilliseconds} ms; jobs per interpreter: {string.Join(", ", byInterpreter.Select(p => $"{p.Key}: {p.Value}"))}");

InterpreterChannel<string> words = Interpreters.CreateChannel<string>();
foreach (string word in new[] { "spam", "eggs", "ham" })
{
    words.Writer.TryWrite(word);
}

words.Writer.Complete();
result = await interp.ExecAsync("await foreach (var w in words.ReadAllAsync()) { Console.Write(w.ToUpperInvariant() + \" \"); }", new Dictionary<string, object?> { ["words"] = words.Reader });
Console.WriteLine($"an end passed to exec code as a variable: {result.Stdout.Trim()}");

// Items of 256 KiB and more go around the host: the writer puts each in a file, only a reference is brokered.
InterpreterChannel<byte[]> blobs = Interpreters.CreateChannel<byte[]>(capacity: 8);
stopwatch.Restart();
Task produced = interp.CallAsync(() => Blobs.Produce(blobs.Writer, 64, 1 << 20));
long received = 0;
await foreach (byte[] blob in blobs.Reader.ReadAllAsync())
{
    received += blob.Length;
}

await produced;
Console.WriteLine($"large items, worker -> host: {received >> 20} MiB in 1 MiB items in {stopwatch.ElapsedMilliseconds} ms");

Console.WriteLine();
Console.WriteLine("== A sandboxed interpreter: the operating system refuses it a socket");
if (SandboxOptions.Strict.IsSupported(out string sandboxReason))
{
    await using Interpreter jail = await Interpreters.CreateAsync(new InterpreterOptions { Sandbox = SandboxOptions.Strict });
    ExecResult refused = await jail.ExecAsync(
        """
        try
        {
            using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            Console.WriteLine("a socket opened");
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            Console.WriteLine($"socket refused: {ex.SocketErrorCode}");
        }
        """);
    Console.Write(refused.Stdout);
}
else
{
    Console.WriteLine($"not on this machine: {sandboxReason}");
}

Console.WriteLine();
Console.WriteLine("== A pool of interpreters, like InterpreterPoolExecutor");
await using (var pool = new InterpreterPool(new InterpreterPoolOptions { MaxInterpreters = Environment.ProcessorCount }))
{
    stopwatch.Restart();
    long[] counts = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => pool.CallAsync(() => Primes.CountIn(i * 750_000L, (i + 1) * 750_000L))));
    Console.WriteLine($"4 ranges on {pool.Count} pooled interpreters: {counts.Sum()} primes below 3,000,000 in {stopwatch.ElapsedMilliseconds} ms");
}

Console.WriteLine();
Console.WriteLine("== Close: graceful, idempotent");
await interp.CloseAsync();
await interp.CloseAsync();
Console.WriteLine($"{interp}");
try
{
    await interp.ExecAsync("Console.WriteLine(1);");
}
catch (InterpreterClosedException ex)
{
    Console.WriteLine($"InterpreterClosedException: {ex.Message}");
}

Console.WriteLine();
Console.WriteLine("== Isolation levels: the same API in this process, in an assembly load context of its own or on a thread");
await using (Interpreter inContext = await Interpreters.CreateAsync(new InterpreterOptions { Isolation = Isolation.AssemblyLoadContext }))
await using (Interpreter onThread = await Interpreters.CreateAsync(new InterpreterOptions { Isolation = Isolation.Thread }))
{
    await inContext.CallAsync(() => Jobs.Record());
    await onThread.CallAsync(() => Jobs.Record());
    await onThread.CallAsync(() => Jobs.Record());
    Console.WriteLine($"{inContext}: Jobs.Done = {await inContext.CallAsync(() => Jobs.Done)} (its own statics)");
    Console.WriteLine($"{onThread}: Jobs.Done = {await onThread.CallAsync(() => Jobs.Done)}, host: {Jobs.Done} (the host's statics: no isolation)");
}

Console.WriteLine();
Console.WriteLine("== What each level costs, measured now on the quick setting (dotnet pwsh build.ps1 compare for the full run)");
IReadOnlyList<ComparisonRow> comparison = await IsolationComparison.RunAsync(ComparisonSettings.Quick, message => Console.WriteLine("... " + message));
Console.WriteLine(ComparisonTable.ToMarkdown(comparison));

Console.WriteLine("Done. Every worker exits with the host; no socket file stays behind.");
