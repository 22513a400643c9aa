using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Pipes;
using System.Linq.Expressions;
using ProcIsolates.Calls;
using ProcIsolates.Channels.Broker;
using ProcIsolates.Channels.Spill;
using ProcIsolates.Protocol.Contracts;
using ProcIsolates.Protocol.Messages;
using ProcIsolates.Protocol.Transport;
using ProcIsolates.Sandbox;
using ProcIsolates.Worker;
using StreamJsonRpc;

namespace ProcIsolates.Workers;

/// <summary>
/// One running worker process and the JSON-RPC connection to it: starting it, calling it, noticing when it dies and
/// stopping it. An <see cref="Interpreter"/> owns one at a time (a new one when the worker is recycled).
/// </summary>
internal sealed class WorkerConnection
{
    /// <summary>How long after the exit the last stderr lines may take to arrive.</summary>
    private static readonly TimeSpan StderrDrainTime = TimeSpan.FromMilliseconds(300);

    /// <summary>How many workers may be starting at once (spawned, not yet connected).</summary>
    internal static readonly int MaxConcurrentStarts = Math.Max(2, Environment.ProcessorCount);

    private static readonly SemaphoreSlim ColdStarts = new(MaxConcurrentStarts);

    private static long lastWorkerNumber;

    private readonly Process process;
    private readonly PipeEndpoint endpoint;
    private readonly JsonRpc rpc;
    private readonly WorkerStreams streams;
    private readonly BrokerSession channels;
    private readonly WorkerStderr stderr;
    private Action<WorkerConnection>? onDied;
    private long interpreterId;
    private volatile bool stopping;
    private volatile bool exitedUnasked;
    private int exitHandled;
    private readonly Lock closeGate = new();
    private Task? closed;
    private readonly Task<InterpreterCrashedException> ended;
    private readonly TaskCompletionSource processExited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile string? stopReason;
    private volatile bool recycled;
    private readonly WorkerSandboxSetup? sandbox;

    /// <summary>
    /// The most requests a worker may have waiting for the host's replies. Its own code sends a few at a time (an
    /// interpreter id, say); one that sends requests without reading the replies would make the host queue them.
    /// </summary>
    internal const int MaxUnansweredRequests = 4096;

    private WorkerConnection(Process process, PipeEndpoint endpoint, WorkerStreams streams, WorkerStderr stderr, int maxMessageSize, string spillTag, WorkerSandboxSetup? sandbox)
    {
        this.sandbox = sandbox;
        this.streams = streams;
        rpc = RpcChannel.Create(
            streams.Rpc,
            maxMessageSize,
            size => Stop($"It sent a message of {size} bytes, more than InterpreterOptions.MaxMessageSize ({maxMessageSize}), and was killed."),
            MaxUnansweredRequests,
            waiting => Stop($"It had {waiting} requests to the host waiting for replies it did not read (at most {MaxUnansweredRequests}), and was killed."));
        channels = new BrokerSession(streams.ChannelData, reason => Stop("It broke the channel protocol and was killed. " + reason), spillTag);
        this.process = process;
        this.endpoint = endpoint;
        this.stderr = stderr;
        ProcessId = process.Id;
        Service = rpc.Attach<IWorkerService>();
        ended = DescribeEndAsync();
        process.Exited += (_, _) => OnProcessExited();
        rpc.Disconnected += OnCallsDisconnected;
        rpc.AddLocalRpcTarget<IHostService>(new HostService(), options: null);
        rpc.StartListening();
        if (process.HasExited)
        {
            OnProcessExited();
        }
    }

    public int ProcessId { get; }

    /// <summary>How many channel frames the broker has sent this worker (see <see cref="Protocol.Messages.CallRequest.ChannelFrames"/>).</summary>
    public long ChannelFramesSent => channels.SentFrames;

    public IWorkerService Service { get; }

    /// <summary>Ids of the exec assemblies already sent to this worker.</summary>
    public ConcurrentDictionary<string, byte> ShippedCode { get; } = new(StringComparer.Ordinal);

    /// <summary>Why the host killed this worker itself, or <see langword="null"/>.</summary>
    public string? StopReason => stopReason;

    /// <summary>Whether the host killed this worker to recycle it (a cancelled call that would not stop), not for misbehaving.</summary>
    public bool Recycled => recycled;

    /// <summary>Sends each line the worker writes to standard error to <paramref name="write"/> instead of the host's standard error.</summary>
    /// <param name="write">Where the lines go.</param>
    public void RouteStderr(Action<string> write) => stderr.Route(write);

    /// <summary>Whether the worker process has exited.</summary>
    public bool HasExited => Volatile.Read(ref exitHandled) == 1;

    /// <summary>Starts a worker and connects to it; it is not an interpreter until <see cref="InitializeAsync"/>.</summary>
    /// <param name="options">Timeouts.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The connected worker.</returns>
    public static async Task<WorkerConnection> StartAsync(InterpreterOptions options, CancellationToken cancellationToken)
    {
        // A cold start is mostly the worker's JIT: started all at once, 64 workers on 2 cores each got 1/32 of a core
        // and missed their deadlines. A few at a time, the rest queued; the start deadline counts from the spawn.
        await ColdStarts.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await StartNowAsync(options, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ColdStarts.Release();
        }
    }

    private static async Task<WorkerConnection> StartNowAsync(InterpreterOptions options, CancellationToken cancellationToken)
    {
        long workerNumber = Interlocked.Increment(ref lastWorkerNumber);
        PipeEndpoint endpoint = PipeEndpoint.Create(workerNumber);
        string spillTag = SpillStore.NewWorkerTag();
        NamedPipeServerStream[]? accepted = null; // by ConnectionRole
        WorkerStreams? streams = null;
        Process? process = null;
        var stderr = new WorkerStderr();
        WorkerSandboxSetup? sandbox = null;
        try
        {
            byte[] token = Handshake.NewToken();
            sandbox = WorkerSandboxSetup.Create(options.Sandbox, workerNumber);
            var arguments = new WorkerArguments(endpoint.PipeName, Environment.ProcessId) { SpillDirectory = SpillStore.HostDirectory, SpillTag = spillTag, Sandbox = sandbox?.Policy };
            ProcessStartInfo start = WorkerLauncher.Current.CreateStartInfo(arguments, options, sandbox?.Environment());
            sandbox?.JoinCgroupsFirst(start);
            process = new Process { StartInfo = start, EnableRaisingEvents = true };
            await WorkerSpawner.StartAsync(process).ConfigureAwait(false);
            stderr.Start(process.StandardError.BaseStream);
            sandbox?.Attach(process); // Before the token: the worker runs no user code before it has connected.
            await process.StandardInput.WriteLineAsync(Convert.ToBase64String(token).AsMemory(), cancellationToken).ConfigureAwait(false);
            await process.StandardInput.FlushAsync(cancellationToken).ConfigureAwait(false);

            using var startTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            startTimeout.CancelAfter(options.StartTimeout);
            try
            {
                accepted = await WorkerListener.AcceptAsync(
                    endpoint, token, process.Id, (pipe, cancel) => WaitForConnectionOrExitAsync(pipe, process, stderr, cancel), startTimeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new InterpreterException($"A worker process did not connect within {options.StartTimeout.TotalSeconds:0.#} s (InterpreterOptions.StartTimeout).");
            }
            catch (HandshakeException ex)
            {
                throw new InterpreterException($"A worker process failed the handshake {WorkerListener.MaxConnectAttempts} times: {ex.Message}", ex);
            }

            endpoint.DeleteSocketFile(); // Our worker is connected: nobody else may connect, and nothing is left behind.
            streams = WorkerStreams.Create(accepted[(int)ConnectionRole.Calls], accepted[(int)ConnectionRole.ChannelData]);
            accepted = null; // The streams own them now.
            return new WorkerConnection(process, endpoint, streams, stderr, options.MaxMessageSize, spillTag, sandbox);
        }
        catch (Exception ex)
        {
            Kill(process);
            if (process is not null && sandbox is not null)
            {
                await WaitForExitQuietlyAsync(process).ConfigureAwait(false);
            }

            ReleaseGroup(process);

            sandbox?.Remove();
            process?.Dispose();
            if (streams is not null)
            {
                await streams.DisposeAsync().ConfigureAwait(false);
            }

            foreach (NamedPipeServerStream pipe in accepted ?? [])
            {
                await pipe.DisposeAsync().ConfigureAwait(false);
            }

            endpoint.DeleteSocketFile();
            if (ex is InterpreterException or OperationCanceledException)
            {
                throw;
            }

            throw new InterpreterException($"A worker process could not be started: {ex.Message}", ex);
        }
    }

    private static void ReleaseGroup(Process? process)
    {
        try
        {
            if (process is not null)
            {
                OrphanReaper.Release(process.Id);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started.
        }
    }

    /// <summary>Waits a little for a killed worker to be gone, so that its cgroups can be removed.</summary>
    private static async Task WaitForExitQuietlyAsync(Process process)
    {
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
        {
            // Never started, or slow to die: the cgroup removal retries, then leaves it.
        }
    }

    private static async Task WaitForConnectionOrExitAsync(NamedPipeServerStream pipe, Process process, WorkerStderr stderr, CancellationToken cancellationToken)
    {
        Task connected = pipe.WaitForConnectionAsync(cancellationToken);
        Task exited = process.WaitForExitAsync(cancellationToken);
        if (await Task.WhenAny(connected, exited).ConfigureAwait(false) == exited && !connected.IsCompletedSuccessfully)
        {
            _ = connected.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
            if (process.HasExited)
            {
                await Task.WhenAny(stderr.Completion, Task.Delay(StderrDrainTime, CancellationToken.None)).ConfigureAwait(false);
                throw CrashedException(0, process, stderr, "It exited before connecting to the host.");
            }
        }

        await connected.ConfigureAwait(false);
    }

    /// <summary>Makes the worker interpreter <paramref name="id"/>.</summary>
    /// <param name="id">The interpreter id.</param>
    /// <param name="budgets">What the worker may make the host hold.</param>
    /// <param name="channelsCreated">The interpreter's count of channels created, carried over from the workers it had before.</param>
    /// <param name="died">Called once if the worker later exits without being asked to (crashed, or killed by <see cref="Stop"/>).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the worker has taken the id.</returns>
    public async Task InitializeAsync(long id, Action<WorkerConnection> died, WorkerBudgets budgets, ChannelsCreatedCount channelsCreated, CancellationToken cancellationToken)
    {
        channels.Budgets = budgets;
        channels.ChannelsCreated = channelsCreated;
        Interlocked.Exchange(ref interpreterId, id);
        Volatile.Write(ref onDied, died);
        await InvokeAsync((service, token) => service.InitializeAsync(new InitializeRequest { InterpreterId = id }, token), TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends a no-op Initialize and one small call, so that both ends have run (and the JIT compiled) these paths before real work arrives.</summary>
    /// <returns>A task that completes when the worker answered.</returns>
    public async Task WarmUpAsync()
    {
        // The interpreter's first request, Initialize, once without effect: a fresh method costs the worker's JSON-RPC
        // dispatch ~10 ms the first time, which would otherwise land on the CreateAsync that takes this spare.
        await InvokeAsync((service, token) => service.InitializeAsync(new InitializeRequest { InterpreterId = InitializeRequest.WarmUpOnly }, token), TimeSpan.Zero, CancellationToken.None).ConfigureAwait(false);
        CallRequest request = CallExpressionReader.Read((Expression<Func<int>>)(() => Environment.ProcessId)).Request;
        await InvokeAsync((service, token) => service.CallAsync(request, token), TimeSpan.Zero, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends a request and waits for its reply. A worker failure becomes <see cref="InterpreterCrashedException"/>
    /// (or <see cref="InterpreterClosedException"/> when the interpreter was being closed); a cancelled request that the
    /// worker does not end within <paramref name="cancellationGracePeriod"/> gets the worker killed.
    /// </summary>
    public async Task<T> InvokeAsync<T>(Func<IWorkerService, CancellationToken, Task<T>> send, TimeSpan cancellationGracePeriod, CancellationToken cancellationToken)
    {
        Task<T> call;
        try
        {
            call = send(Service, cancellationToken);
        }
        catch (Exception ex) when (IsConnectionFailure(ex))
        {
            throw await FailureAsync().ConfigureAwait(false);
        }

        if (cancellationToken.CanBeCanceled && !call.IsCompleted)
        {
            // Linked, and disposed with this call, so that a long-lived caller token does not collect a registration per call.
            using var watch = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Task overdue = OverdueAfterCancellationAsync(cancellationGracePeriod, watch.Token);
            if (await Task.WhenAny(call, overdue).ConfigureAwait(false) != call)
            {
                _ = call.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
                Recycle($"A cancelled call did not stop within {cancellationGracePeriod.TotalSeconds:0.##} s, so its worker was killed and replaced.");
                throw new OperationCanceledException(cancellationToken);
            }
        }

        try
        {
            return await call.ConfigureAwait(false);
        }
        catch (Exception ex) when (IsConnectionFailure(ex))
        {
            throw await FailureAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Asks the worker to exit, kills it if it has not within <paramref name="timeout"/>, and releases everything. Idempotent.</summary>
    public Task CloseAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        lock (closeGate)
        {
            return closed ??= CloseCoreAsync(timeout, cancellationToken);
        }
    }

    private async Task CloseCoreAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        stopping = true;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            if (!process.HasExited)
            {
                await Service.ShutdownAsync().WaitAsync(deadline.Token).ConfigureAwait(false);
                process.StandardInput.Close();
                await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException || IsConnectionFailure(ex) || ex is RemoteInvocationException)
        {
            // Not answering or already gone: the kill below ends it.
        }

        Kill(process);
        await ended.ConfigureAwait(false);
        rpc.Dispose();
        await Task.WhenAny(channels.Reading, Task.Delay(DrainTimeout, CancellationToken.None)).ConfigureAwait(false); // Its last writes first.
        channels.Close();
        await streams.DisposeAsync().ConfigureAwait(false);
        endpoint.DeleteSocketFile();
        process.Dispose();
    }

    /// <summary>
    /// Kills a worker that broke the protocol or a limit; the died callback then reports it as crashed, with
    /// <paramref name="reason"/>.
    /// </summary>
    public void Stop(string reason)
    {
        stopReason ??= reason;
        Kill(process);

        // Report it now rather than when the exit is noticed, so that the very next call already sees the crash.
        OnExited();
    }

    /// <summary>Kills a worker that did nothing wrong but must go (a cancelled call that would not stop); the died callback replaces it.</summary>
    private void Recycle(string reason)
    {
        if (stopReason is null)
        {
            recycled = true;
        }

        Stop(reason);
    }

    /// <summary>
    /// The calls connection ended. Garbage on it, or a worker that closed it while it runs on, would leave an
    /// interpreter whose every call fails while its process lives: the worker is ended and reported as crashed.
    /// </summary>
    private void OnCallsDisconnected(object? sender, JsonRpcDisconnectedEventArgs e)
    {
        if (stopping || HasExited || e.Reason == DisconnectedReason.LocallyDisposed)
        {
            return;
        }

        string reason = $"Its calls connection broke ({e.Reason}: {e.Description}), and it was killed.";
        if (e.Reason is DisconnectedReason.RemotePartyTerminated or DisconnectedReason.StreamError)
        {
            // Usually the worker died and its exit is on the way; a worker that lives on closed the connection itself.
            _ = StopIfStillRunningAsync(reason);
            return;
        }

        Stop(reason);
    }

    private async Task StopIfStillRunningAsync(string reason)
    {
        try
        {
            await processExited.Task.WaitAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Stop(reason);
        }
    }

    /// <summary>Kills the worker at once without reporting it (the host is exiting).</summary>
    public void KillSilently()
    {
        stopping = true;
        Kill(process);
    }

    /// <summary>Describes the worker's end, once it has ended (or, if it does not end within two seconds, as it is).</summary>
    public async Task<InterpreterCrashedException> DescribeCrashAsync()
    {
        try
        {
            return await ended.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return new InterpreterCrashedException(interpreterId, exitCode: null, signal: null, stderr.ToString(), stopReason);
        }
    }

    /// <summary>Waits for the exit and records how it ended, before anything disposes the process.</summary>
    private async Task<InterpreterCrashedException> DescribeEndAsync()
    {
        await processExited.Task.ConfigureAwait(false);

        // Give the stderr reader a moment for the last lines (the runtime's crash report), but do not wait for the end
        // of stderr itself: a child process the code started may hold it open long after the worker is gone.
        await Task.WhenAny(stderr.Completion, Task.Delay(StderrDrainTime)).ConfigureAwait(false);

        // The worker is gone: so is what it started, its cgroups can be removed, and nobody writes to its temp directory any more.
        OrphanReaper.Release(ProcessId);
        sandbox?.Remove();
        return CrashedException(Volatile.Read(ref interpreterId), process, stderr, stopReason);
    }

    private void OnProcessExited()
    {
        processExited.TrySetResult();
        OnExited();
    }

    private static InterpreterCrashedException CrashedException(long interpreterId, Process process, WorkerStderr stderr, string? reason)
    {
        int? exitCode = process.HasExited ? process.ExitCode : null;

        // On Unix .NET reports a process ended by signal N as exit code 128 + N.
        int? signal = !OperatingSystem.IsWindows() && exitCode is > 128 and < 160 ? exitCode - 128 : null;
        return new InterpreterCrashedException(interpreterId, exitCode, signal, stderr.ToString(), reason);
    }

    private static async Task OverdueAfterCancellationAsync(TimeSpan grace, CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
        await Task.Delay(grace, CancellationToken.None).ConfigureAwait(false);
    }

    private static bool IsConnectionFailure(Exception exception) =>
        exception is ConnectionLostException or ObjectDisposedException or IOException;

    private static void Kill(Process? process)
    {
        try
        {
            if (process is { HasExited: false })
            {
                process.Kill(entireProcessTree: true);
            }

            // What it started and what left its tree (re-parented when their parent ended) share its process group.
            if (process is not null)
            {
                OrphanReaper.KillGroup(process.Id);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited meanwhile or never started.
        }
    }

    private async Task<Exception> FailureAsync()
    {
        // Closing after the worker died (the interpreter cleaning up a crash) does not make the crash a close.
        if (stopping && !exitedUnasked)
        {
            return new InterpreterClosedException(interpreterId, $"Interpreter {interpreterId} was closed while the call was in flight.");
        }

        return await DescribeCrashAsync().ConfigureAwait(false);
    }

    private void OnExited()
    {
        if (Interlocked.Exchange(ref exitHandled, 1) == 1)
        {
            return;
        }

        rpc.Dispose(); // Fails in-flight calls at once instead of waiting for the pipe to notice.
        _ = ReleaseChannelsAsync();
        if (!stopping)
        {
            exitedUnasked = true;
            Volatile.Read(ref onDied)?.Invoke(this);
        }
    }

    /// <summary>
    /// How long a dead worker's channel stream may take to drain. Its end comes as soon as the kernel closed the
    /// socket, so this bounds only a stream some other process still holds open; a completed awaited write is in
    /// that stream, so the wait is long enough for a loaded host to read everything.
    /// </summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gives back what the dead worker held of channels once the broker has read everything it sent before it died
    /// (its completed writes are in the socket): at the end of its channel stream, or after <see cref="DrainTimeout"/>.
    /// </summary>
    private async Task ReleaseChannelsAsync()
    {
        await Task.WhenAny(channels.Reading, Task.Delay(DrainTimeout)).ConfigureAwait(false);
        channels.Close();
    }
}
