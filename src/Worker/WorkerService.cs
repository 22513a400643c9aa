using System.Diagnostics;
using System.Reflection;
using System.Runtime.Loader;
using ProcIsolates.Protocol.Contracts;
using ProcIsolates.Protocol.Messages;
using ProcIsolates.Protocol.Serialization;
using ProcIsolates.Worker.Execution;

namespace ProcIsolates.Worker;

/// <summary>
/// Serves one interpreter's requests. A worker process serves it over its pipe; in-process interpreters (the main
/// one, and those isolated by an assembly load context or not at all) call an instance directly, so all run code the
/// same way.
/// </summary>
internal sealed class WorkerService : IWorkerService
{
    private readonly CodeCache code;
    private readonly MethodDispatcher dispatcher = new();
    private readonly Action? onShutdown;
    private readonly AssemblyLoadContext? loadContext;

    /// <summary>Initializes a new instance of the <see cref="WorkerService"/> class.</summary>
    /// <param name="onShutdown">Called when the host asks the worker to exit.</param>
    /// <param name="loadContext">
    /// Where code and the methods it calls load: <see langword="null"/> for the default context. Requests run with it as
    /// the contextual reflection context, so that type names resolve in it.
    /// </param>
    public WorkerService(Action? onShutdown = null, AssemblyLoadContext? loadContext = null)
    {
        this.onShutdown = onShutdown;
        this.loadContext = loadContext;
        code = new CodeCache(loadContext ?? AssemblyLoadContext.Default);
    }

    /// <inheritdoc/>
    public Task<int> PingAsync(CancellationToken cancellationToken) => Task.FromResult(Environment.ProcessId);

    /// <inheritdoc/>
    public Task<int> InitializeAsync(InitializeRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.InterpreterId == InitializeRequest.WarmUpOnly)
        {
            // A spare's warm-up, or the worker's own: the path of this request is now compiled, and nothing changed.
            return Task.FromResult(Environment.ProcessId);
        }

        if (WorkerContext.InterpreterId is { } existing && existing != request.InterpreterId)
        {
            throw new InvalidOperationException($"This worker is already interpreter {existing}.");
        }

        WorkerContext.InterpreterId = request.InterpreterId;
        HostLibrary.EnsureLoaded();
        return Task.FromResult(Environment.ProcessId);
    }

    /// <inheritdoc/>
    public async Task<ExecReply> ExecAsync(ExecRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var output = new CapturedOutput();
        var stopwatch = Stopwatch.StartNew();
        RemoteError? error = null;
        try
        {
            await ChannelNewsAsync(request.ChannelFrames).ConfigureAwait(false);
            MethodInfo entryPoint = code.GetEntryPoint(request.CodeId, request.Assembly);

            // On a pool thread, so that the pipe keeps being read (a cancellation, another call) while the code blocks.
            await Task.Run(
                async () =>
                {
                    using AssemblyLoadContext.ContextualReflectionScope? reflection = loadContext?.EnterContextualReflection();
                    using ConsoleCapture.Scope capture = ConsoleCapture.Begin(output);
                    ExecScope.Enter(request.Variables, cancellationToken);
                    object?[]? arguments = entryPoint.GetParameters().Length == 0 ? null : [Array.Empty<string>()];
                    if (entryPoint.Invoke(null, BindingFlags.DoNotWrapExceptions, binder: null, arguments, culture: null) is Task task)
                    {
                        await task.ConfigureAwait(false);
                    }
                },
                CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            error = Describe(ex, cancellationToken);
        }

        await EndOperationAsync().ConfigureAwait(false);
        (string stdout, string stderr) = output.Snapshot();
        return new ExecReply { Stdout = stdout, Stderr = stderr, DurationTicks = stopwatch.Elapsed.Ticks, Error = error };
    }

    /// <inheritdoc/>
    public async Task<CallReply> CallAsync(CallRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        try
        {
            // Yield first: StreamJsonRpc runs the synchronous start of a method on its reading path, so a method that
            // blocks would hold up every later request (CallTests.A_blocking_call_does_not_hold_up_other_calls).
            await Task.Yield();
            await ChannelNewsAsync(request.ChannelFrames).ConfigureAwait(false);
            using AssemblyLoadContext.ContextualReflectionScope? reflection = loadContext?.EnterContextualReflection();
            return new CallReply { Result = await dispatcher.InvokeAsync(request, cancellationToken).ConfigureAwait(false) };
        }
        catch (Exception ex)
        {
            return new CallReply { Error = Describe(ex, cancellationToken) };
        }
        finally
        {
            await EndOperationAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public Task ShutdownAsync()
    {
        onShutdown?.Invoke();
        return Task.CompletedTask;
    }

    /// <summary>Channel frames the host sent before this request are handled before its code runs (see <c>ChannelFrames</c>).</summary>
    private static ValueTask ChannelNewsAsync(long frames) =>
        frames > 0 && WorkerContext.ChannelFramesArrived is { } arrived ? arrived(frames) : ValueTask.CompletedTask;

    private static async Task EndOperationAsync()
    {
        if (WorkerContext.OperationEnded is { } ended)
        {
            await ended().ConfigureAwait(false);
        }
    }

    private static RemoteError Describe(Exception exception, CancellationToken cancellationToken) => exception switch
    {
        OperationCanceledException when cancellationToken.IsCancellationRequested => RemoteError.From(exception, RemoteErrorKind.Canceled),
        NotShareableValueException notShareable => RemoteError.From(exception, RemoteErrorKind.NotShareable, notShareable.ValueType.FullName),
        UnknownCodeException => RemoteError.From(exception, RemoteErrorKind.UnknownCode),
        BadCallException => RemoteError.From(exception, RemoteErrorKind.BadRequest),
        _ => RemoteError.From(exception),
    };
}
