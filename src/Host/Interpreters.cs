using System.Collections.Concurrent;
using ProcIsolates.Worker;

namespace ProcIsolates;

/// <summary>
/// Creates and lists interpreters: the entry point of ProcIsolates, like Python's <c>concurrent.interpreters</c> module.
/// </summary>
public static class Interpreters
{
    private static readonly ConcurrentDictionary<long, Interpreter> Live = new();
    private static readonly Lazy<Interpreter> MainInterpreter = new(CreateMain);
    private static readonly Lazy<Interpreter> CurrentWorker = new(() => Interpreter.ForThisProcess(WorkerContext.InterpreterId!.Value, InterpreterKind.Process, new WorkerService()));
    private static long lastId;
    private static int exitHookInstalled;

    static Interpreters() => Diagnostics.ProcIsolatesTelemetry.ObserveAlive(() => Live.Count);

    /// <summary>
    /// The main interpreter (id 0): the host process. Code it runs shares the host's statics and console. Inside a
    /// worker it stands for the host, which a worker cannot call.
    /// </summary>
    public static Interpreter Main => MainInterpreter.Value;

    /// <summary>
    /// The interpreter the calling code runs in: inside an exec or call of an in-process interpreter that interpreter,
    /// inside a worker that worker's interpreter (with the id the host sees), else <see cref="Main"/>.
    /// </summary>
    public static Interpreter Current => InProcess.CurrentInterpreter.Value ?? (WorkerContext.IsWorker ? CurrentWorker.Value : Main);

    /// <summary>
    /// Starts a new interpreter: in a worker process of its own, or in this process as <see cref="InterpreterOptions.Isolation"/> says.
    /// </summary>
    /// <param name="options">How to start and run it; defaults when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the start (the worker is then killed).</param>
    /// <returns>The interpreter, ready to run code.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An option is invalid.</exception>
    /// <exception cref="InterpreterException">The worker could not start or connect.</exception>
    public static async Task<Interpreter> CreateAsync(InterpreterOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= InterpreterOptions.Default;
        options.Validate();
        InstallExitHook();
        cancellationToken.ThrowIfCancellationRequested();
        long id = await ReserveIdAsync(cancellationToken).ConfigureAwait(false);
        bool inProcess = options.Isolation != Isolation.Process;
        Interpreter interpreter = inProcess
            ? Interpreter.StartInProcess(id, options)
            : await Interpreter.StartAsync(id, options, cancellationToken).ConfigureAwait(false);
        if (!inProcess && CompilerWarmUp)
        {
            // After, not during, the first start: on two cores a compile beside a starting worker slows it by ~120 ms.
            Compilation.CodeCompiler.WarmUpInBackground();
        }

        Live[id] = interpreter;
        Diagnostics.ProcIsolatesTelemetry.Created.Add(1);
        if (!inProcess)
        {
            Workers.SpareWorkers.Replenish(options.SpareKind ?? SandboxOptions.None);
        }

        return interpreter;
    }

    /// <summary>
    /// The most bytes of items that live workers wrote which may wait in channel queues, all workers together (each
    /// worker also has its own <see cref="WorkerBudgets.MaxQueuedBytes"/>). Over it, the worker whose items are the most
    /// is killed and reported <see cref="InterpreterState.Crashed"/> with the reason, as over its own budget; what it
    /// wrote stays for the readers. Default: half the memory available to this process, at least 2 GiB; at least
    /// 64 MiB.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is under 64 MiB.</exception>
    public static long MaxQueuedChannelBytes
    {
        get => HostQueueBudget.Limit;
        set => HostQueueBudget.Limit = value;
    }

    /// <summary>
    /// Whether the host warms up the C# compiler in the background once its first worker interpreter is created
    /// (default <see langword="true"/>), so that the first <see cref="Interpreter.ExecAsync"/> does not pay Roslyn's
    /// cold start alone. Set it to <see langword="false"/> before creating interpreters in an app that never runs code
    /// strings: the warm-up costs about a second of CPU and loads the compiler into the host.
    /// </summary>
    public static bool CompilerWarmUp { get; set; } = true;

    /// <summary>
    /// How many worker processes to keep started ahead of need; 1 by default, 0 for none. With a spare ready,
    /// <see cref="CreateAsync"/> answers in about a millisecond instead of the few hundred a cold .NET worker takes; a
    /// new spare starts in the background after each creation. A spare is started with its sandbox already in force,
    /// so there are this many for each <see cref="InterpreterOptions.Sandbox"/> used (the last four used); options
    /// that shape the process in other ways (<see cref="InterpreterOptions.MemoryLimit"/>, the environment, …) always
    /// start a worker of their own. Spares are not interpreters: they have no id and are not listed.
    /// </summary>
    public static int SpareWorkers
    {
        get => Workers.SpareWorkers.Target;
        set => Workers.SpareWorkers.Target = value;
    }

    /// <summary>
    /// Creates a channel between interpreters, brokered by the host: a <see cref="System.Threading.Channels.Channel{T}"/>
    /// whose ends work in the host and in any worker they are passed to. Items are MessagePack serialized, delivered
    /// in order, each to exactly one reader.
    /// </summary>
    /// <typeparam name="T">The item type; it must be shareable.</typeparam>
    /// <param name="capacity"><see langword="null"/> (the default) for unbounded; 0 for a rendezvous channel, where a
    /// write completes only when a reader takes the item; otherwise the most items the channel holds before writers wait.</param>
    /// <returns>The channel.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is negative.</exception>
    public static InterpreterChannel<T> CreateChannel<T>(int? capacity = null) => Channels.ChannelEndFactory.Create<T>(capacity);

    /// <summary>
    /// Lists the main interpreter first, then every live interpreter by id. Inside a worker: the main interpreter, the
    /// current one, then the live interpreters this worker created (ids are unique across the host and its workers).
    /// </summary>
    /// <returns>A snapshot of the interpreters.</returns>
    public static IReadOnlyList<Interpreter> ListAll()
    {
        var all = new List<Interpreter>(Live.Count + 2) { Main };
        if (WorkerContext.IsWorker)
        {
            all.Add(Current);
        }

        all.AddRange(Live.Values.Where(i => i.State is not (InterpreterState.Closed or InterpreterState.Crashed)).OrderBy(i => i.Id));
        return all;
    }

    /// <summary>The next interpreter id: minted here in the outermost host, asked of the host inside a worker.</summary>
    internal static async Task<long> ReserveIdAsync(CancellationToken cancellationToken)
    {
        if (WorkerContext.ReserveInterpreterId is { } askHost)
        {
            try
            {
                return await askHost(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is StreamJsonRpc.ConnectionLostException or ObjectDisposedException)
            {
                throw new InterpreterException("This worker's host is gone: it cannot create interpreters any more.", ex);
            }
        }

        return Interlocked.Increment(ref lastId);
    }

    internal static void Unregister(Interpreter interpreter) => Live.TryRemove(new KeyValuePair<long, Interpreter>(interpreter.Id, interpreter));

    private static Interpreter CreateMain() =>
        WorkerContext.HostProcessId is { } hostProcessId
            ? Interpreter.Unreachable(0, InterpreterKind.Main, hostProcessId)
            : Interpreter.ForThisProcess(0, InterpreterKind.Main, new WorkerService());

    private static void InstallExitHook()
    {
        if (Interlocked.Exchange(ref exitHookInstalled, 1) == 0)
        {
            // Workers also exit on their own when the host's pipes close; this makes a normal exit immediate.
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                Workers.SpareWorkers.KillAll();
                foreach (Interpreter interpreter in Live.Values)
                {
                    interpreter.KillNow();
                }
            };
        }
    }
}
