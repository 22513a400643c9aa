using Microsoft.Extensions.Logging.Abstractions;

namespace ProcIsolates.Tests.Sandbox;

/// <summary>The tour's kinds of work, in a strict sandbox: ordinary code must not notice it.</summary>
public sealed class BenignWorkloadTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Execs_calls_statics_parallel_work_and_typed_errors_work()
    {
        await using Interpreter jail = await EscapeTests.StrictAsync();

        ExecResult result = await jail.ExecAsync("Console.WriteLine($\"{name} {numbers.Sum()}\"); Console.Error.WriteLine(\"to stderr\");", new Dictionary<string, object?> { ["name"] = "spam", ["numbers"] = new[] { 1, 2, 3 } }).WaitAsync(Bound);
        Assert.Equal("spam 6", result.Stdout.TrimEnd());
        Assert.Equal("to stderr", result.Stderr.TrimEnd());

        await jail.CallAsync(() => SandboxWork.Record()).WaitAsync(Bound);
        Assert.Equal(2, await jail.CallAsync(() => SandboxWork.Record()).WaitAsync(Bound));
        Assert.Equal(78_498, await jail.CallAsync(() => SandboxWork.ParallelPrimes(1_000_000)).WaitAsync(Bound));

        ExecutionFailedException failed = await Assert.ThrowsAsync<ExecutionFailedException>(() => jail.ExecAsync("throw new InvalidOperationException(\"boom\");").WaitAsync(Bound));
        Assert.Equal("boom", failed.RemoteMessage);
    }

    [Fact]
    public async Task Cancellation_reaches_the_code_and_the_worker_stays()
    {
        await using Interpreter jail = await EscapeTests.StrictAsync();
        int pid = jail.ProcessId;
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => jail.ExecAsync("await Task.Delay(30_000, cancellationToken);", cancellationToken: cancel.Token).WaitAsync(Bound));

        Assert.Equal(pid, await jail.CallAsync(() => EscapeAttempts.Ping()).WaitAsync(Bound));
    }

    [Fact]
    public async Task A_crash_is_reported_with_its_stderr()
    {
        await using Interpreter jail = await Interpreters.CreateAsync(new InterpreterOptions { Sandbox = SandboxOptions.Strict, LoggerFactory = NullLoggerFactory.Instance }).WaitAsync(Bound);

        InterpreterCrashedException crash = await Assert.ThrowsAsync<InterpreterCrashedException>(() => jail.ExecAsync("Environment.FailFast(\"fatal in the sandbox\");").WaitAsync(Bound));

        Assert.Contains("fatal in the sandbox", crash.StderrTail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Channels_carry_small_and_large_items_between_host_and_sandboxed_workers()
    {
        await using Interpreter producer = await EscapeTests.StrictAsync();
        await using Interpreter consumer = await EscapeTests.StrictAsync();

        // Small items, host -> worker, through a bounded channel.
        var small = Interpreters.CreateChannel<byte[]>(capacity: 4);
        Task<long[]> smallRead = consumer.CallAsync(() => SandboxWork.Consume(small.Reader));
        for (int i = 0; i < 20; i++)
        {
            await small.Writer.WriteAsync([(byte)i]);
        }

        small.Writer.Complete();
        Assert.Equal(new long[] { 190, 20 }, await smallRead.WaitAsync(Bound));

        // 1 MiB items (spill files in the host's directory), worker -> worker.
        var large = Interpreters.CreateChannel<byte[]>(capacity: 2);
        Task produced = producer.CallAsync(() => SandboxWork.Produce(large.Writer, 8, 1 << 20));
        long[] got = await consumer.CallAsync(() => SandboxWork.Consume(large.Reader)).WaitAsync(Bound);
        await produced.WaitAsync(Bound);
        Assert.Equal(new long[] { 28, 8L << 20 }, got);

        // 1 MiB items, worker -> host, and host -> worker.
        var back = Interpreters.CreateChannel<byte[]>(capacity: 2);
        Task produceBack = producer.CallAsync(() => SandboxWork.Produce(back.Writer, 3, 1 << 20));
        long length = 0;
        await foreach (byte[] item in back.Reader.ReadAllAsync().WithCancellation(new CancellationTokenSource(Bound).Token))
        {
            length += item.Length;
        }

        await produceBack.WaitAsync(Bound);
        Assert.Equal(3L << 20, length);
        var toWorker = Interpreters.CreateChannel<byte[]>();
        toWorker.Writer.TryWrite(new byte[1 << 20]);
        toWorker.Writer.Complete();
        Assert.Equal(new long[] { 0, 1 << 20 }, await consumer.CallAsync(() => SandboxWork.Consume(toWorker.Reader)).WaitAsync(Bound));
    }

    [Fact]
    public async Task The_worker_has_a_private_temp_directory_deleted_when_it_closes()
    {
        Interpreter jail = await EscapeTests.StrictAsync();
        string temp = await jail.CallAsync(() => SandboxWork.UseTempDirectory()).WaitAsync(Bound);

        Assert.Contains("procisolates-worker-", temp, StringComparison.Ordinal);
        Assert.True(Directory.Exists(temp));
        await jail.CloseAsync().WaitAsync(Bound);
        Assert.False(Directory.Exists(temp));
    }

    [Fact]
    public async Task ReadablePaths_and_WritablePaths_open_what_they_name_and_nothing_beside()
    {
        DirectoryInfo readable = Directory.CreateTempSubdirectory("procisolates-readable-");
        DirectoryInfo writable = Directory.CreateTempSubdirectory("procisolates-writable-");
        try
        {
            string input = Path.Combine(readable.FullName, "in.txt");
            string output = Path.Combine(writable.FullName, "out.txt");
            await File.WriteAllTextAsync(input, "given");
            await using Interpreter jail = await EscapeTests.StrictAsync(SandboxOptions.Strict with { ReadablePaths = [readable.FullName], WritablePaths = [writable.FullName] });

            Assert.Equal("given", await jail.CallAsync(() => SandboxWork.ReadText(input)).WaitAsync(Bound));
            await jail.CallAsync(() => SandboxWork.WriteText(output, "made")).WaitAsync(Bound);
            Assert.Equal("made", await File.ReadAllTextAsync(output));
            Assert.Equal(typeof(UnauthorizedAccessException).FullName, await jail.CallAsync(() => EscapeAttempts.WriteFile(Path.Combine(readable.FullName, "planted.txt"))).WaitAsync(Bound));
        }
        finally
        {
            readable.Delete(recursive: true);
            writable.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_pool_of_sandboxed_interpreters_runs_work_in_sandboxes()
    {
        await using var pool = new InterpreterPool(new InterpreterPoolOptions { MaxInterpreters = 2, InterpreterOptions = new InterpreterOptions { Sandbox = SandboxOptions.Strict } });
        long[] counts = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => pool.CallAsync(() => SandboxWork.ParallelPrimes(100_000)))).WaitAsync(Bound);
        Assert.All(counts, c => Assert.Equal(9_592, c));

        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        Assert.Equal(typeof(System.Net.Sockets.SocketException).FullName, await pool.CallAsync(() => EscapeAttempts.ConnectTcp(port)).WaitAsync(Bound));
    }

    [Fact]
    public async Task A_root_hosts_sandboxed_worker_has_no_capabilities()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            return; // Only a root host's workers have capabilities to lose; CI runs as root.
        }

        await using Interpreter jail = await EscapeTests.StrictAsync();

        Assert.Equal("0000000000000000", await jail.CallAsync(() => SandboxWork.EffectiveCapabilities()).WaitAsync(Bound));
    }
}
