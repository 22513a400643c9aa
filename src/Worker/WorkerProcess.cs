using System.Diagnostics;
using System.IO.Pipes;
using ProcIsolates.Protocol.Contracts;
using ProcIsolates.Protocol.Transport;
using ProcIsolates.Worker.Execution;
using ProcIsolates.Worker.Sandbox;
using StreamJsonRpc;

namespace ProcIsolates.Worker;

/// <summary>The worker's life: connect to the host, serve it, and exit as soon as the host is gone.</summary>
internal static class WorkerProcess
{
    /// <summary>Exit code: the arguments or the handshake were wrong.</summary>
    public const int ExitBadStart = 2;

    /// <summary>The first argument of a worker started from the app's own executable (see <c>ProcIsolatesWorker.TryRun</c>).</summary>
    public const string AppHostedMarker = "--procisolates-worker";

    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How many pool threads the worker makes at once when work is waiting, before the pool's gradual injection.</summary>
    private const int MinThreads = 64;

    /// <summary>The host asked this worker to shut down: the end of its input then does not mean the host died.</summary>
    private static volatile bool shutdownRequested;

    /// <summary>Runs a worker until its host disconnects or asks it to shut down; never returns normally.</summary>
    /// <param name="args">The worker's command line (see <see cref="WorkerArguments"/>).</param>
    /// <returns>The exit code.</returns>
    public static async Task<int> RunAsync(string[] args)
    {
        if (!OperatingSystem.IsWindows())
        {
            _ = InheritedHandles.CloseAll(); // Before anything else opens a descriptor that could take one of their numbers.
        }

        if (!WorkerArguments.TryParse(args, out WorkerArguments? arguments, out string? error))
        {
            await Console.Error.WriteLineAsync("ProcIsolates.Worker: " + error).ConfigureAwait(false);
            return ExitBadStart;
        }

        if (arguments!.Sandbox is { } policy && !arguments.Confined)
        {
            // Before anything reads standard input: the re-executed worker reads the token.
            string failure = WorkerSandbox.ConfineAndReexecute(policy, arguments.SpillDirectory);
            await Console.Error.WriteLineAsync("ProcIsolates.Worker: cannot enter the sandbox: " + failure).ConfigureAwait(false);
            return ExitBadStart;
        }

        // The token comes on standard input so that it never shows in a process listing. The host then keeps that
        // pipe open for the worker's whole life: end of input means the host is gone, however it ended.
        Stream input = Console.OpenStandardInput();
        PipeEndpoint endpoint = PipeEndpoint.FromName(arguments.PipeName);

        // Before the first await: the kernel keeps the parent-death signal per thread, and this is the main thread,
        // which lives as long as the process (a pool thread that armed it could retire and take the signal with it).
        if (!ParentWatch.Arm(arguments.ParentProcessId))
        {
            endpoint.DeleteSocketFile();
            return ExitBadStart; // The host died while this worker started.
        }

        byte[]? token = await ReadTokenAsync(input).ConfigureAwait(false);
        if (token is null)
        {
            // The host died before it could hand over the token: its socket file would be left behind.
            endpoint.DeleteSocketFile();
            await Console.Error.WriteLineAsync("ProcIsolates.Worker: no handshake token on standard input").ConfigureAwait(false);
            return ExitBadStart;
        }

        WorkerContext.HostProcessId = arguments.ParentProcessId;
        WorkerContext.SpillDirectory = arguments.SpillDirectory;
        WorkerContext.SpillTag = arguments.SpillTag;

        ConsoleCapture.Install();

        // Each call runs on the thread pool: calls that block (Thread.Sleep, synchronous I/O) would otherwise wait for
        // the pool's slow thread injection, one new thread every half second or so. Threads are still made on demand.
        ThreadPool.GetMinThreads(out int workerThreads, out int completionThreads);
        ThreadPool.SetMinThreads(Math.Max(workerThreads, MinThreads), completionThreads);

        // JIT and serializer set-up of the request path, on the other core while this thread connects.
        _ = Task.Run(WorkerWarmup.Run);
        _ = ExitWhenInputEndsAsync(input, endpoint, arguments);

        NamedPipeClientStream? calls = null;
        NamedPipeClientStream? channelData = null;
        try
        {
            using var connectTimeout = new CancellationTokenSource(ConnectTimeout);
            calls = await ConnectAsync(arguments.PipeName, token, ConnectionRole.Calls, arguments.ParentProcessId, connectTimeout.Token).ConfigureAwait(false);
            channelData = await ConnectAsync(arguments.PipeName, token, ConnectionRole.ChannelData, arguments.ParentProcessId, connectTimeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or UnauthorizedAccessException or TimeoutException)
        {
            // The host is gone or refused us. Its socket file may outlive it (a host killed while this worker started).
            endpoint.DeleteSocketFile();
            await Console.Error.WriteLineAsync("ProcIsolates.Worker: cannot connect to the host: " + ex.Message).ConfigureAwait(false);
            Exit(ExitBadStart);
        }

        WorkerStreams streams = WorkerStreams.Create(calls!, channelData!);
        WorkerContext.Streams = streams;
        WorkerContext.CallsConnection = calls;
        if (arguments.Sandbox is { } confined)
        {
            // The runtime and the connections are up: from here on the filter denies what the sandbox forbids.
            try
            {
                WorkerSandbox.InstallSystemCallFilter(confined);
            }
            catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or DllNotFoundException or InvalidOperationException)
            {
                await Console.Error.WriteLineAsync("ProcIsolates.Worker: cannot install the sandbox's system call filter: " + ex.Message).ConfigureAwait(false);
                Exit(ExitBadStart);
            }
        }

        JsonRpc rpc = RpcChannel.Create(streams.Rpc);
        var shutdown = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        rpc.AddLocalRpcTarget<IWorkerService>(new WorkerService(onShutdown: () =>
        {
            shutdownRequested = true;
            shutdown.TrySetResult();
        }), options: null);
        IHostService host = rpc.Attach<IHostService>();
        WorkerContext.ReserveInterpreterId = host.ReserveInterpreterIdAsync;
        rpc.StartListening();
        await Task.WhenAny(rpc.Completion, shutdown.Task).ConfigureAwait(false);
        if (shutdown.Task.IsCompleted)
        {
            // Let the reply to ShutdownAsync reach the host before the pipe goes away.
            await Task.WhenAny(rpc.Completion, Task.Delay(TimeSpan.FromMilliseconds(200))).ConfigureAwait(false);
        }
        else
        {
            // The calls connection ended unasked: the host is probably dying (this races the end of standard input).
            DeleteHostLeftovers(endpoint, arguments, hostMayBeExiting: true);
        }

        Exit(0);
        return 0;
    }

    private static async Task<NamedPipeClientStream> ConnectAsync(string pipeName, byte[] token, ConnectionRole role, int hostProcessId, CancellationToken cancellationToken)
    {
        var pipe = new NamedPipeClientStream(".", pipeName, PipeDirection.InOut, PipeOptions.Asynchronous | PipeOptions.CurrentUserOnly);
        try
        {
            await pipe.ConnectAsync(cancellationToken).ConfigureAwait(false);

            // The token goes only to the host: whoever renamed the socket and listens in its place does not get it.
            if (PeerProcess.IdOf(pipe) is { } server && server != hostProcessId)
            {
                throw new UnauthorizedAccessException($"The socket '{pipeName}' is held by process {server}, not by the host ({hostProcessId}).");
            }

            await Handshake.ClientAsync(pipe, token, role, cancellationToken).ConfigureAwait(false);
            return pipe;
        }
        catch
        {
            await pipe.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<byte[]?> ReadTokenAsync(Stream input)
    {
        // One line of base64, read byte by byte so that nothing after it is consumed.
        var line = new List<byte>();
        byte[] one = new byte[1];
        while (await input.ReadAsync(one).ConfigureAwait(false) == 1 && one[0] != (byte)'\n')
        {
            if (line.Count > 1024)
            {
                return null;
            }

            line.Add(one[0]);
        }

        try
        {
            return line.Count == 0 ? null : Convert.FromBase64String(System.Text.Encoding.ASCII.GetString(line.ToArray()).Trim());
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static async Task ExitWhenInputEndsAsync(Stream input, PipeEndpoint endpoint, WorkerArguments arguments)
    {
        byte[] buffer = new byte[64];
        try
        {
            while (await input.ReadAsync(buffer).ConfigureAwait(false) > 0)
            {
            }
        }
        catch (IOException)
        {
        }

        DeleteHostLeftovers(endpoint, arguments, hostMayBeExiting: !shutdownRequested);
        Exit(0);
    }

    /// <summary>
    /// The host is gone or going. If it died while this worker was still connecting, its socket file is still there;
    /// if it was killed, so is its spill directory. That is deleted only once the host has exited, for a host that
    /// closes this worker's input on purpose still uses it. <paramref name="hostMayBeExiting"/>: the host is probably
    /// dying (input or calls connection ended unasked, or the parent-death signal), so wait up to 300 ms for the kernel
    /// to re-parent this worker: a dying host's threads exit one by one, and the signal comes with the first, the
    /// forking thread, while the re-parenting comes with the last.
    /// </summary>
    private static void DeleteHostLeftovers(PipeEndpoint endpoint, WorkerArguments arguments, bool hostMayBeExiting)
    {
        endpoint.DeleteSocketFile();
        if (arguments.SpillDirectory is not { } spill)
        {
            return;
        }

        for (int attempt = 0; !ParentWatch.HostHasExited(arguments.ParentProcessId); attempt++)
        {
            if (!hostMayBeExiting || attempt == 30)
            {
                return;
            }

            Thread.Sleep(10);
        }

        FileCleanup.TryDeleteDirectory(spill);
    }

    /// <summary>
    /// Ends the process even if user code holds foreground threads or blocks a shutdown handler: a backstop kills
    /// the process if the orderly exit has not finished within half a second.
    /// </summary>
    private static void Exit(int exitCode)
    {
        var backstop = new Thread(() =>
        {
            Thread.Sleep(500);
            Process.GetCurrentProcess().Kill();
        })
        { IsBackground = true, Name = "ProcIsolates exit backstop" };
        backstop.Start();
        Environment.Exit(exitCode);
    }
}
