using System.Linq.Expressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ProcIsolates.Calls;
using ProcIsolates.Compilation;
using ProcIsolates.Diagnostics;
using ProcIsolates.InProcess;
using ProcIsolates.Protocol.Contracts;
using ProcIsolates.Protocol.Messages;
using ProcIsolates.Protocol.Serialization;
using ProcIsolates.Worker;
using ProcIsolates.Workers;

namespace ProcIsolates;

/// <summary>
/// An isolated interpreter: a worker process of its own by default, or code in the host process isolated by an
/// assembly load context or not at all (see <see cref="Isolation"/>); <see cref="Interpreters.Main"/> is the host
/// itself. Run code strings in it with <see cref="ExecAsync"/> and static methods with <c>CallAsync</c>; close it with
/// <see cref="CloseAsync"/> or <see cref="DisposeAsync"/>. Calls may run concurrently.
/// </summary>
public sealed class Interpreter : IAsyncDisposable
{
    private readonly InterpreterOptions options;
    private readonly IWorkerService? inProcess;
    private readonly InterpreterLoadContext? loadContext;
    private readonly CancellationTokenSource? inProcessLifetime;
    private readonly int hostProcessId;
    private readonly ILogger logger;
    private readonly Lock gate = new();
    private readonly ChannelsCreatedCount channelsCreated = new(); // Over every worker this interpreter has had.
    private WorkerConnection? worker;
    private Task<WorkerConnection>? replacement;
    private Task? closing;
    private InterpreterCrashedException? crash;
    private volatile InterpreterState lifecycle;
    private int running;

    private Interpreter(long id, InterpreterKind kind, InterpreterOptions options, IWorkerService? inProcess, int processId, InterpreterLoadContext? loadContext = null)
    {
        Id = id;
        Kind = kind;
        this.options = options;
        this.inProcess = inProcess;
        this.loadContext = loadContext;
        inProcessLifetime = kind is InterpreterKind.AssemblyLoadContext or InterpreterKind.Thread ? new CancellationTokenSource() : null;
        hostProcessId = processId;
        logger = options.LoggerFactory is { } factory ? new SafeLogger(factory.CreateLogger(InterpreterLog.Category)) : NullLogger.Instance;
        lifecycle = InterpreterState.Starting;
    }

    /// <summary>
    /// Raised once, on a thread-pool thread, when the interpreter's worker dies without being asked to (not when it is
    /// recycled after a cancellation, nor when it is closed). The interpreter is then <see cref="InterpreterState.Crashed"/>.
    /// </summary>
    public event EventHandler<InterpreterCrashedEventArgs>? Crashed;

    /// <summary>The interpreter's id: 0 for the main interpreter, then 1, 2, … in order of creation, never reused.</summary>
    public long Id { get; }

    /// <summary>How the interpreter is isolated.</summary>
    public InterpreterKind Kind { get; }

    /// <summary>The id of the process the interpreter's code runs in (it changes if a worker is recycled).</summary>
    public int ProcessId => worker?.ProcessId ?? hostProcessId;

    /// <summary>Where the interpreter is in its life.</summary>
    public InterpreterState State =>
        lifecycle == InterpreterState.Idle && Volatile.Read(ref running) > 0 ? InterpreterState.Running : lifecycle;

    /// <summary>Whether an exec or call is running in the interpreter now.</summary>
    public bool IsRunning => State == InterpreterState.Running;

    /// <summary>Runs C# statements in the interpreter and returns what they wrote.</summary>
    /// <param name="code">
    /// C# statements in the style of a program's top-level statements (<c>await</c> allowed), with the implicit usings
    /// System, System.IO, System.Linq, System.Collections.Generic, System.Threading, System.Threading.Tasks and ProcIsolates,
    /// and access to the app's own assemblies. The name <c>cancellationToken</c> is the exec's cancellation token.
    /// </param>
    /// <param name="variables">Names bound to shareable values inside the code, typed as the values' runtime types.</param>
    /// <param name="cancellationToken">Cancels the exec: the code sees it through <c>cancellationToken</c>; code that does not stop
    /// within <see cref="InterpreterOptions.CancellationGracePeriod"/> gets its worker killed and replaced.</param>
    /// <returns>What the code wrote to standard output and standard error, and how long it ran.</returns>
    /// <exception cref="CompilationFailedException">The code does not compile; nothing was sent.</exception>
    /// <exception cref="NotShareableException">A variable's value cannot be shared; nothing was sent.</exception>
    /// <exception cref="ExecutionFailedException">The code threw.</exception>
    /// <exception cref="InterpreterCrashedException">The worker died.</exception>
    /// <exception cref="InterpreterClosedException">The interpreter is closed.</exception>
    /// <exception cref="OperationCanceledException">The exec was cancelled.</exception>
    /// <exception cref="TimeoutException">The exec ran past <see cref="InterpreterOptions.CallTimeout"/>.</exception>
    public async Task<ExecResult> ExecAsync(string code, IReadOnlyDictionary<string, object?>? variables = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(code);
        ThrowIfUnusable();
        return await RunOperationAsync("exec", target: null, deadline => ExecCoreAsync(code, variables, deadline), cancellationToken).ConfigureAwait(false);
    }

    private async Task<ExecResult> ExecCoreAsync(string code, IReadOnlyDictionary<string, object?>? variables, CallDeadline deadline)
    {
        CancellationToken cancellationToken = deadline.Token;
        CompiledCode compiled = CodeCompiler.Compile(code, variables);
        Dictionary<string, byte[]>? values = SerializeVariables(compiled, variables);
        EnsureFits(compiled.Assembly.Length + (values?.Values.Sum(v => (long)v.Length) ?? 0));

        ExecReply reply = await SendAsync(
            async (service, connection, token) =>
            {
                bool ship = connection is null || connection.ShippedCode.TryAdd(compiled.Id, 0);
                ExecReply first = await service.ExecAsync(new ExecRequest { CodeId = compiled.Id, Assembly = ship ? compiled.Assembly : null, Variables = values, ChannelFrames = connection?.ChannelFramesSent ?? 0 }, token).ConfigureAwait(false);
                return first.Error?.Kind == RemoteErrorKind.UnknownCode
                    ? await service.ExecAsync(new ExecRequest { CodeId = compiled.Id, Assembly = compiled.Assembly, Variables = values, ChannelFrames = connection?.ChannelFramesSent ?? 0 }, token).ConfigureAwait(false)
                    : first;
            },
            deadline).ConfigureAwait(false);

        if (reply.Error is { } error)
        {
            throw ToException(error, cancellationToken, reply.Stdout, reply.Stderr);
        }

        return new ExecResult(reply.Stdout, reply.Stderr, TimeSpan.FromTicks(reply.DurationTicks));
    }

    /// <summary>Calls a static method in the interpreter and returns its result.</summary>
    /// <typeparam name="T">The method's result type.</typeparam>
    /// <param name="call">A call of a static method, like <c>() =&gt; Primes.CountBelow(limit)</c>. The arguments are evaluated here
    /// and serialized; a <see cref="CancellationToken"/> parameter receives the call's own token in the interpreter.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The method's result, deserialized.</returns>
    /// <exception cref="ArgumentException"><paramref name="call"/> is not a call of a static method.</exception>
    /// <exception cref="TimeoutException">The call ran past <see cref="InterpreterOptions.CallTimeout"/>.</exception>
    /// <exception cref="NotShareableException">An argument or the result cannot be shared.</exception>
    /// <exception cref="ExecutionFailedException">The method threw.</exception>
    /// <exception cref="InterpreterCrashedException">The worker died.</exception>
    /// <exception cref="InterpreterClosedException">The interpreter is closed.</exception>
    public Task<T> CallAsync<T>(Expression<Func<T>> call, CancellationToken cancellationToken = default) => CallCoreAsync<T>(call, cancellationToken);

    /// <inheritdoc cref="CallAsync{T}(Expression{Func{T}}, CancellationToken)"/>
    public Task<T> CallAsync<T>(Expression<Func<Task<T>>> call, CancellationToken cancellationToken = default) => CallCoreAsync<T>(call, cancellationToken);

    /// <inheritdoc cref="CallAsync{T}(Expression{Func{T}}, CancellationToken)"/>
    public Task<T> CallAsync<T>(Expression<Func<ValueTask<T>>> call, CancellationToken cancellationToken = default) => CallCoreAsync<T>(call, cancellationToken);

    /// <summary>Calls a static void method in the interpreter.</summary>
    /// <param name="call">A call of a static method, like <c>() =&gt; Jobs.Reset()</c>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the method has returned.</returns>
    /// <exception cref="ArgumentException"><paramref name="call"/> is not a call of a static method.</exception>
    /// <exception cref="NotShareableException">An argument cannot be shared.</exception>
    /// <exception cref="ExecutionFailedException">The method threw.</exception>
    /// <exception cref="InterpreterCrashedException">The worker died.</exception>
    /// <exception cref="InterpreterClosedException">The interpreter is closed.</exception>
    public Task CallAsync(Expression<Action> call, CancellationToken cancellationToken = default) => CallCoreAsync<object?>(call, cancellationToken);

    /// <summary>Calls a static method returning <see cref="Task"/> in the interpreter and waits for that task.</summary>
    /// <param name="call">A call of a static method, like <c>() =&gt; Jobs.ResetAsync()</c>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the method's task has completed.</returns>
    /// <exception cref="ArgumentException"><paramref name="call"/> is not a call of a static method.</exception>
    /// <exception cref="NotShareableException">An argument cannot be shared.</exception>
    /// <exception cref="ExecutionFailedException">The method threw.</exception>
    /// <exception cref="InterpreterCrashedException">The worker died.</exception>
    /// <exception cref="InterpreterClosedException">The interpreter is closed.</exception>
    public Task CallAsync(Expression<Func<Task>> call, CancellationToken cancellationToken = default) => CallCoreAsync<object?>(call, cancellationToken);

    /// <inheritdoc cref="CallAsync(Expression{Func{Task}}, CancellationToken)"/>
    public Task CallAsync(Expression<Func<ValueTask>> call, CancellationToken cancellationToken = default) => CallCoreAsync<object?>(call, cancellationToken);

    /// <summary>
    /// Closes the interpreter: asks its worker to exit, and kills it if it has not within
    /// <see cref="InterpreterOptions.ShutdownTimeout"/>. Idempotent; calls still in flight fail with
    /// <see cref="InterpreterClosedException"/>. An in-process interpreter's running code sees its cancellation token
    /// cancelled (it cannot be killed), and its assembly load context is unloaded. The main interpreter lives as long
    /// as the process, so closing it does nothing.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting for a graceful exit: the worker is killed at once.</param>
    /// <returns>A task that completes when the worker has exited and its pipe is gone.</returns>
    public Task CloseAsync(CancellationToken cancellationToken = default)
    {
        // The main interpreter, and a worker's view of its own interpreter, live as long as their process.
        if (Kind == InterpreterKind.Main || (inProcess is not null && inProcessLifetime is null))
        {
            return Task.CompletedTask;
        }

        lock (gate)
        {
            return closing ??= inProcessLifetime is not null ? CloseInProcess() : CloseCoreAsync(cancellationToken);
        }
    }

    /// <summary>Closes the interpreter, like <see cref="CloseAsync"/>.</summary>
    /// <returns>A task that completes when the interpreter is closed.</returns>
    public ValueTask DisposeAsync() => new(CloseAsync());

    /// <summary>Describes the interpreter, e.g. <c>Interpreter(Id=1, process, pid=4242)</c>.</summary>
    /// <returns>The description.</returns>
    public override string ToString()
    {
        string kind = Kind switch
        {
            InterpreterKind.Main => "main",
            InterpreterKind.AssemblyLoadContext => "assembly load context",
            InterpreterKind.Thread => "thread",
            _ => "process",
        };
        InterpreterState state = State;
        return state is InterpreterState.Closed or InterpreterState.Crashed
            ? $"Interpreter(Id={Id}, {kind}, pid={ProcessId}, {state.ToString().ToLowerInvariant()})"
            : $"Interpreter(Id={Id}, {kind}, pid={ProcessId})";
    }

    internal static Interpreter ForThisProcess(long id, InterpreterKind kind, IWorkerService service)
    {
        var interpreter = new Interpreter(id, kind, InterpreterOptions.Default, service, Environment.ProcessId);
        interpreter.lifecycle = InterpreterState.Idle;
        return interpreter;
    }

    internal static Interpreter Unreachable(long id, InterpreterKind kind, int processId)
    {
        var interpreter = new Interpreter(id, kind, InterpreterOptions.Default, inProcess: null, processId);
        interpreter.lifecycle = InterpreterState.Idle;
        return interpreter;
    }

    /// <summary>Makes an interpreter that runs its code in this process, on the host's assemblies or in a load context of its own.</summary>
    internal static Interpreter StartInProcess(long id, InterpreterOptions options)
    {
        InterpreterLoadContext? context = options.Isolation == Isolation.AssemblyLoadContext ? new InterpreterLoadContext(id) : null;
        InterpreterKind kind = context is null ? InterpreterKind.Thread : InterpreterKind.AssemblyLoadContext;
        var interpreter = new Interpreter(id, kind, options, new WorkerService(loadContext: context), Environment.ProcessId, context);
        interpreter.lifecycle = InterpreterState.Idle;
        InterpreterLog.Started(interpreter.logger, id, Environment.ProcessId);
        return interpreter;
    }

    internal static async Task<Interpreter> StartAsync(long id, InterpreterOptions options, CancellationToken cancellationToken)
    {
        var interpreter = new Interpreter(id, InterpreterKind.Process, options, inProcess: null, Environment.ProcessId);
        WorkerConnection connection = await interpreter.StartWorkerAsync(cancellationToken).ConfigureAwait(false);
        interpreter.worker = connection;
        interpreter.lifecycle = InterpreterState.Idle;
        InterpreterLog.Started(interpreter.logger, id, connection.ProcessId);
        if (connection.HasExited)
        {
            interpreter.OnWorkerDied(connection); // Died between its start and now: its death was not yet ours to report.
        }

        return interpreter;
    }

    /// <summary>Kills the worker at once, for when the host process is exiting.</summary>
    internal void KillNow()
    {
        lifecycle = InterpreterState.Closed;
        worker?.KillSilently();
    }

    /// <summary>Takes a spare worker if one is (or is being) started, else starts one, and makes it this interpreter.</summary>
    private async Task<WorkerConnection> StartWorkerAsync(CancellationToken cancellationToken)
    {
        // A spare serves only interpreters whose process it could have been started for: the same sandbox, nothing else set.
        if (options.SpareKind is { } kind && SpareWorkers.TryTake(kind) is { } spare)
        {
            WorkerConnection? ready = null;
            try
            {
                ready = await spare.WaitAsync(cancellationToken).ConfigureAwait(false);
                await ready.InitializeAsync(Id, OnWorkerDied, options.Budgets, channelsCreated, cancellationToken).ConfigureAwait(false);
                RouteStderr(ready);
                return ready;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                _ = SpareWorkers.CloseWhenStartedAsync(spare);
                throw;
            }
            catch (InterpreterException)
            {
                // The spare failed to start or died while it waited: start a worker of our own.
                if (ready is not null)
                {
                    await ready.CloseAsync(TimeSpan.Zero, CancellationToken.None).ConfigureAwait(false);
                }
            }
        }

        WorkerConnection connection = await WorkerConnection.StartAsync(options, cancellationToken).ConfigureAwait(false);
        try
        {
            await connection.InitializeAsync(Id, OnWorkerDied, options.Budgets, channelsCreated, cancellationToken).ConfigureAwait(false);
            RouteStderr(connection);
            return connection;
        }
        catch
        {
            await connection.CloseAsync(TimeSpan.Zero, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    private void RouteStderr(WorkerConnection connection)
    {
        if (options.LoggerFactory is not null)
        {
            int pid = connection.ProcessId;
            connection.RouteStderr(line => InterpreterLog.Stderr(logger, Id, pid, line));
        }
    }

    private async Task<T> CallCoreAsync<T>(LambdaExpression call, CancellationToken cancellationToken)
    {
        ThrowIfUnusable();
        PreparedCall prepared = CallExpressionReader.Read(call);
        EnsureFits(prepared.Request.Arguments.Sum(a => (long)(a?.Length ?? 0)));
        return await RunOperationAsync("call", prepared.MethodName, deadline => SendCallAsync<T>(prepared, deadline), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Refuses, before sending, a request whose payload alone is over <see cref="InterpreterOptions.MaxMessageSize"/>.</summary>
    private void EnsureFits(long payload)
    {
        // The envelope (method, ids, names) is small; the payload is what can be large.
        if (inProcess is null && payload + 4096 > options.MaxMessageSize)
        {
            throw new MessageTooLargeException(Id, payload, options.MaxMessageSize);
        }
    }

    /// <summary>Runs one exec or call under <see cref="InterpreterOptions.CallTimeout"/>, traced and counted.</summary>
    private async Task<T> RunOperationAsync<T>(string operation, string? target, Func<CallDeadline, Task<T>> body, CancellationToken cancellationToken)
    {
        OperationScope scope = OperationScope.Start(operation, Id, target);
        using CallDeadline deadline = CallDeadline.Start(options.CallTimeout, cancellationToken);
        try
        {
            T result = await body(deadline).ConfigureAwait(false);
            scope.End();
            return result;
        }
        catch (Exception ex) when (deadline.TimedOut(ex))
        {
            TimeoutException timeout = deadline.ToTimeout(Id, ex);
            scope.End(timeout);
            throw timeout;
        }
        catch (Exception ex)
        {
            scope.End(ex);
            throw;
        }
    }

    private async Task<T> SendCallAsync<T>(PreparedCall prepared, CallDeadline deadline)
    {
        CallReply reply = await SendAsync(
            (service, connection, token) =>
            {
                prepared.Request.ChannelFrames = connection?.ChannelFramesSent ?? 0;
                return service.CallAsync(prepared.Request, token);
            },
            deadline).ConfigureAwait(false);
        if (reply.Error is { } error)
        {
            throw ToException(error, deadline.Token);
        }

        if (prepared.ResultType is null || reply.Result is null)
        {
            return default!;
        }

        try
        {
            return (T)ShareableSerializer.Deserialize(prepared.ResultType, reply.Result)!;
        }
        catch (NotShareableValueException ex)
        {
            throw new NotShareableException(ex.ValueType.FullName ?? ex.ValueType.Name, $"The result of {prepared.MethodName} is not shareable: {ex.Reason}", ex);
        }
    }

    private async Task<TReply> SendAsync<TReply>(Func<IWorkerService, WorkerConnection?, CancellationToken, Task<TReply>> send, CallDeadline deadline)
    {
        CancellationToken cancellationToken = deadline.Token;
        cancellationToken.ThrowIfCancellationRequested();
        Interlocked.Increment(ref running);
        try
        {
            if (inProcess is not null)
            {
                deadline.Arm();
                return await SendInProcessAsync(send, cancellationToken).ConfigureAwait(false);
            }

            WorkerConnection connection = await CurrentWorkerAsync(deadline.CallerToken).ConfigureAwait(false);
            deadline.Arm();
            Task<TReply> call = connection.InvokeAsync((service, token) => send(service, connection, token), options.CancellationGracePeriod, cancellationToken);
            if (deadline.IsLimited && !call.IsCompleted)
            {
                // At CallTimeout the caller has its answer; code that ignores its token keeps the worker until the grace
                // period ends, then the worker is killed and replaced in the background (WorkerConnection.InvokeAsync).
                Task expired = deadline.Expired;
                if (await Task.WhenAny(call, expired).ConfigureAwait(false) != call && deadline.HasExpired)
                {
                    _ = call.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                    throw new OperationCanceledException(cancellationToken); // Becomes TimeoutException in RunOperationAsync.
                }
            }

            return await call.ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref running);
        }
    }

    /// <summary>
    /// Runs an exec or call in this process. Such code cannot be killed: when cancelled (or its interpreter closed) it
    /// has <see cref="InterpreterOptions.CancellationGracePeriod"/> to stop through its token, then the caller stops
    /// waiting and the code is left to run to its end.
    /// </summary>
    private async Task<TReply> SendInProcessAsync<TReply>(Func<IWorkerService, WorkerConnection?, CancellationToken, Task<TReply>> send, CancellationToken cancellationToken)
    {
        CurrentInterpreter.Set(this);
        using CancellationTokenSource? linked = inProcessLifetime is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, inProcessLifetime.Token);
        CancellationToken token = linked?.Token ?? cancellationToken;
        Task<TReply> work = send(inProcess!, null, token);
        try
        {
            try
            {
                return await work.WaitAsync(token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return await work.WaitAsync(options.CancellationGracePeriod, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException)
        {
            ThrowIfUnusable(); // Closed meanwhile: that is what the caller should see.
            throw ex is OperationCanceledException ? ex : new OperationCanceledException($"Interpreter {Id} runs in this process and its code did not stop within the grace period; it was left running.", ex, token);
        }
    }

    private Task CloseInProcess()
    {
        lock (gate)
        {
            lifecycle = InterpreterState.Closed;
        }

        Interpreters.Unregister(this);
        inProcessLifetime!.Cancel();
        loadContext?.Unload();
        InterpreterLog.Closed(logger, Id);
        return Task.CompletedTask;
    }

    private async Task<WorkerConnection> CurrentWorkerAsync(CancellationToken cancellationToken)
    {
        Task<WorkerConnection>? pending;
        lock (gate)
        {
            ThrowIfUnusable();
            if (worker is not null && replacement is null)
            {
                return worker;
            }

            pending = replacement;
        }

        if (pending is null)
        {
            throw new InterpreterException(Id, $"Interpreter {Id} lives in another process and cannot be reached from here.");
        }

        return await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private void ThrowIfUnusable()
    {
        switch (lifecycle)
        {
            case InterpreterState.Closed:
                throw new InterpreterClosedException(Id);
            case InterpreterState.Crashed:
                throw crash ?? new InterpreterCrashedException(Id, null, null, string.Empty);
        }
    }

    private void OnWorkerDied(WorkerConnection dead)
    {
        ProcIsolatesTelemetry.Crashes.Add(1);
        if (dead.Recycled)
        {
            // Killed on purpose (a cancelled call that would not stop): replace it so the interpreter stays usable.
            lock (gate)
            {
                // Not (yet, or any more) this interpreter's worker: one being initialized is cleaned up by its starter.
                if (lifecycle is InterpreterState.Closed || !ReferenceEquals(worker, dead) || replacement is not null)
                {
                    return;
                }

                InterpreterLog.Recycling(logger, Id, dead.ProcessId);

                lifecycle = InterpreterState.Starting;
                replacement = ReplaceWorkerAsync(dead);
            }

            return;
        }

        _ = MarkCrashedAsync(dead);
    }

    private async Task<WorkerConnection> ReplaceWorkerAsync(WorkerConnection dead)
    {
        // Not awaited: closing waits for the process to end, which a child holding its stderr must not delay.
        _ = dead.CloseAsync(TimeSpan.Zero, CancellationToken.None);
        WorkerConnection fresh;
        try
        {
            fresh = await StartWorkerAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            var failed = new InterpreterCrashedException(Id, null, null, string.Empty, "Its worker could not be replaced: " + ex.Message);
            lock (gate)
            {
                replacement = null;
                if (lifecycle != InterpreterState.Starting)
                {
                    throw new InterpreterClosedException(Id); // Closed meanwhile: that is what callers should see.
                }
            }

            ReportCrash(failed);
            throw failed;
        }

        lock (gate)
        {
            worker = fresh;
            replacement = null;
            if (lifecycle == InterpreterState.Starting)
            {
                lifecycle = InterpreterState.Idle;
            }
        }

        if (lifecycle != InterpreterState.Idle)
        {
            await fresh.CloseAsync(TimeSpan.Zero, CancellationToken.None).ConfigureAwait(false); // Closed meanwhile.
            throw new InterpreterClosedException(Id);
        }

        if (fresh.HasExited)
        {
            OnWorkerDied(fresh); // Died between its start and now: its death was not yet ours to report.
        }

        return fresh;
    }

    private async Task MarkCrashedAsync(WorkerConnection dead)
    {
        InterpreterCrashedException described = await dead.DescribeCrashAsync().ConfigureAwait(false);
        lock (gate)
        {
            if (lifecycle is InterpreterState.Closed or InterpreterState.Crashed || !ReferenceEquals(worker, dead))
            {
                return;
            }
        }

        _ = dead.CloseAsync(TimeSpan.Zero, CancellationToken.None);
        ReportCrash(described);
    }

    /// <summary>Marks the interpreter crashed, releases it, and tells the logger and the <see cref="Crashed"/> handlers.</summary>
    private void ReportCrash(InterpreterCrashedException described)
    {
        lock (gate)
        {
            crash = described;
            lifecycle = InterpreterState.Crashed;
        }

        Interpreters.Unregister(this);
        InterpreterLog.Crashed(logger, Id, described);
        try
        {
            Crashed?.Invoke(this, new InterpreterCrashedEventArgs(described));
        }
#pragma warning disable CA1031 // A handler's failure is the handler's: it must not undo the crash handling.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    private async Task CloseCoreAsync(CancellationToken cancellationToken)
    {
        Task<WorkerConnection>? pending;
        WorkerConnection? current;
        lock (gate)
        {
            lifecycle = InterpreterState.Closed;
            pending = replacement;
            current = worker;
        }

        Interpreters.Unregister(this);
        if (pending is not null)
        {
            try
            {
                current = await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is InterpreterException or OperationCanceledException)
            {
                return; // The replacement never started, closed itself, or we stopped waiting (it closes itself when it starts).
            }
        }

        if (current is not null)
        {
            await current.CloseAsync(options.ShutdownTimeout, cancellationToken).ConfigureAwait(false);
        }

        InterpreterLog.Closed(logger, Id);
    }

    private Exception ToException(RemoteError error, CancellationToken cancellationToken, string stdout = "", string stderr = "") => error.Kind switch
    {
        // An in-process interpreter's code sees its close as a cancellation, or fails to load from its unloading
        // context: the caller must see the close, as it would for a worker.
        _ when inProcessLifetime is not null && lifecycle == InterpreterState.Closed && !cancellationToken.IsCancellationRequested => new InterpreterClosedException(Id),
        RemoteErrorKind.Canceled => new OperationCanceledException(error.Message, cancellationToken),
        RemoteErrorKind.NotShareable => new NotShareableException(error.Detail ?? error.TypeName, error.Message),
        RemoteErrorKind.BadRequest or RemoteErrorKind.UnknownCode => new InterpreterException(Id, error.Message),
        _ => new ExecutionFailedException(Id, error.TypeName, error.Message, error.StackTrace, stdout, stderr),
    };

    private static Dictionary<string, byte[]>? SerializeVariables(CompiledCode compiled, IReadOnlyDictionary<string, object?>? variables)
    {
        if (variables is null || variables.Count == 0)
        {
            return null;
        }

        var values = new Dictionary<string, byte[]>(variables.Count, StringComparer.Ordinal);
        foreach ((string name, object? value) in variables)
        {
            try
            {
                values[name] = ShareableSerializer.Serialize(compiled.VariableTypes[name], value);
            }
            catch (NotShareableValueException ex)
            {
                throw new NotShareableException(ex.ValueType.FullName ?? ex.ValueType.Name, $"The variable '{name}' is not shareable between interpreters: {ex.Reason}", ex);
            }
        }

        return values;
    }
}
