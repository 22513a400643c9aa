using System.Collections.Concurrent;
using System.Linq.Expressions;
using System.Threading.Channels;

namespace ProcIsolates;

/// <summary>
/// A pool of interpreters that runs execs and calls on whichever is free, like Python's
/// <c>InterpreterPoolExecutor</c>: at most <see cref="InterpreterPoolOptions.MaxInterpreters"/> operations run at once,
/// each in an interpreter of its own. A crashed interpreter fails only its own operation and is replaced.
/// </summary>
/// <remarks>
/// The pool never holds more than <see cref="InterpreterPoolOptions.MaxInterpreters"/> interpreters, started or
/// starting: an operation that finds none idle starts one only if that bound allows, and otherwise waits for one to be
/// returned (or replaced). An interpreter whose operation failed with <see cref="InterpreterCrashedException"/> is never
/// handed out again.
/// </remarks>
public sealed partial class InterpreterPool : IAsyncDisposable
{
    private readonly InterpreterPoolOptions options;
    private readonly SemaphoreSlim slots;
    /// <summary>Idle members; <see langword="null"/> wakes a waiting operation to try to start one itself (a start failed).</summary>
    private readonly Channel<Member?> idle = Channel.CreateUnbounded<Member?>();
    private readonly ConcurrentDictionary<Interpreter, Member> members = new();
    private readonly CancellationTokenSource stopping = new();
    private readonly TaskCompletionSource drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task warmUp;
    private readonly Lock gate = new();
    private readonly ConcurrentDictionary<Task, bool> background = new();
    private Task? closing;
    private int running;
    private bool closed;

    /// <summary>Interpreters held or being started; never more than MaxInterpreters (under <see cref="gate"/>).</summary>
    private int population;

    /// <summary>Operations waiting for an idle interpreter because the pool is full.</summary>
    private int waiting;

    /// <summary>Initializes a new pool and starts its <see cref="InterpreterPoolOptions.MinInterpreters"/> in the background.</summary>
    /// <param name="options">Sizes and settings; defaults when <see langword="null"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is invalid.</exception>
    public InterpreterPool(InterpreterPoolOptions? options = null)
    {
        this.options = options ?? new InterpreterPoolOptions();
        this.options.Validate();
        slots = new SemaphoreSlim(this.options.MaxInterpreters, this.options.MaxInterpreters);
        population = this.options.MinInterpreters;
        warmUp = this.options.MinInterpreters == 0 ? Task.CompletedTask : StartMinimumAsync();
    }

    /// <summary>How many interpreters the pool holds now, busy or idle.</summary>
    public int Count => members.Count;

    /// <summary>Waits until the pool's <see cref="InterpreterPoolOptions.MinInterpreters"/> are started.</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>A task that completes when they are ready.</returns>
    public Task WarmUpAsync(CancellationToken cancellationToken = default) => warmUp.WaitAsync(cancellationToken);

    /// <summary>Runs C# statements in a free interpreter; see <see cref="Interpreter.ExecAsync"/>.</summary>
    /// <param name="code">The statements.</param>
    /// <param name="variables">Names bound to shareable values inside the code.</param>
    /// <param name="cancellationToken">Cancels the exec, or the wait for a free interpreter.</param>
    /// <returns>What the code wrote.</returns>
    /// <exception cref="ObjectDisposedException">The pool is closed.</exception>
    public Task<ExecResult> ExecAsync(string code, IReadOnlyDictionary<string, object?>? variables = null, CancellationToken cancellationToken = default) =>
        RunAsync((interpreter, token) => interpreter.ExecAsync(code, variables, token), cancellationToken);

    /// <summary>Calls a static method in a free interpreter; see <see cref="Interpreter.CallAsync{T}(Expression{Func{T}}, CancellationToken)"/>.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="call">A call of a static method.</param>
    /// <param name="cancellationToken">Cancels the call, or the wait for a free interpreter.</param>
    /// <returns>The method's result.</returns>
    /// <exception cref="ObjectDisposedException">The pool is closed.</exception>
    public Task<T> CallAsync<T>(Expression<Func<T>> call, CancellationToken cancellationToken = default) =>
        RunAsync((interpreter, token) => interpreter.CallAsync(call, token), cancellationToken);

    /// <inheritdoc cref="CallAsync{T}(Expression{Func{T}}, CancellationToken)"/>
    public Task<T> CallAsync<T>(Expression<Func<Task<T>>> call, CancellationToken cancellationToken = default) =>
        RunAsync((interpreter, token) => interpreter.CallAsync(call, token), cancellationToken);

    /// <inheritdoc cref="CallAsync{T}(Expression{Func{T}}, CancellationToken)"/>
    public Task<T> CallAsync<T>(Expression<Func<ValueTask<T>>> call, CancellationToken cancellationToken = default) =>
        RunAsync((interpreter, token) => interpreter.CallAsync(call, token), cancellationToken);

    /// <summary>Calls a static void method in a free interpreter.</summary>
    /// <param name="call">A call of a static method.</param>
    /// <param name="cancellationToken">Cancels the call, or the wait for a free interpreter.</param>
    /// <returns>A task that completes when the method has returned.</returns>
    /// <exception cref="ObjectDisposedException">The pool is closed.</exception>
    public Task CallAsync(Expression<Action> call, CancellationToken cancellationToken = default) =>
        RunAsync(async (interpreter, token) => { await interpreter.CallAsync(call, token).ConfigureAwait(false); return true; }, cancellationToken);

    /// <inheritdoc cref="CallAsync(Expression{Action}, CancellationToken)"/>
    public Task CallAsync(Expression<Func<Task>> call, CancellationToken cancellationToken = default) =>
        RunAsync(async (interpreter, token) => { await interpreter.CallAsync(call, token).ConfigureAwait(false); return true; }, cancellationToken);

    /// <inheritdoc cref="CallAsync(Expression{Action}, CancellationToken)"/>
    public Task CallAsync(Expression<Func<ValueTask>> call, CancellationToken cancellationToken = default) =>
        RunAsync(async (interpreter, token) => { await interpreter.CallAsync(call, token).ConfigureAwait(false); return true; }, cancellationToken);

    /// <summary>
    /// Closes the pool: refuses new work, waits for running operations to finish, then closes every interpreter.
    /// Idempotent.
    /// </summary>
    /// <param name="cancellationToken">When cancelled, running operations are cancelled instead of awaited.</param>
    /// <returns>A task that completes when every interpreter is closed.</returns>
    public Task CloseAsync(CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            closed = true;
            if (Volatile.Read(ref running) == 0)
            {
                drained.TrySetResult();
            }

            closing ??= CloseCoreAsync();
        }

        return WaitAsync(closing, cancellationToken);

        async Task WaitAsync(Task task, CancellationToken token)
        {
            using CancellationTokenRegistration cancel = token.Register(stopping.Cancel);
            await task.ConfigureAwait(false);
        }
    }

    /// <summary>Closes the pool, waiting for running operations; see <see cref="CloseAsync"/>.</summary>
    /// <returns>A task that completes when the pool is closed.</returns>
    public ValueTask DisposeAsync() => new(CloseAsync());

    private async Task<TResult> RunAsync<TResult>(Func<Interpreter, CancellationToken, Task<TResult>> operation, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(closed, this);
            running++;
        }

        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping.Token);
            await slots.WaitAsync(linked.Token).ConfigureAwait(false);
            Member? member = null;
            try
            {
                member = await RentAsync(linked.Token).ConfigureAwait(false);
                return await operation(member.Interpreter, linked.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (member is not null && ex is InterpreterCrashedException or TimeoutException)
            {
                // Crashed: its state may not say so yet. Timed out: its code may still run until the worker is recycled,
                // which would fail the next operation sent to it. Either way it is not handed out again.
                member.Crashed = true;
                throw;
            }
            finally
            {
                if (member is not null)
                {
                    Return(member);
                }

                slots.Release();
            }
        }
        finally
        {
            lock (gate)
            {
                if (--running == 0 && closed)
                {
                    drained.TrySetResult();
                }
            }
        }
    }

    private async Task<Member> RentAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            while (idle.Reader.TryRead(out Member? member))
            {
                if (member is null)
                {
                    continue;
                }

                if (member.IsUsable)
                {
                    return member;
                }

                Drop(member);
            }

            if (TryReserve())
            {
                return await StartReservedAsync(cancellationToken).ConfigureAwait(false);
            }

            // Full: one is busy or starting for each slot taken; wait for one to come back (or be replaced, see Drop).
            Interlocked.Increment(ref waiting);
            Member? returned;
            try
            {
                returned = await idle.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref waiting);
            }

            if (returned is null)
            {
                continue; // A start failed: there may be room now to start one here, and see its error.
            }

            if (returned.IsUsable)
            {
                return returned;
            }

            Drop(returned);
        }
    }

    /// <summary>Takes a place for one more interpreter, if the pool has room.</summary>
    private bool TryReserve()
    {
        lock (gate)
        {
            if (population >= options.MaxInterpreters)
            {
                return false;
            }

            population++;
            return true;
        }
    }

    private void Unreserve()
    {
        lock (gate)
        {
            population--;
        }
    }

    /// <summary>Starts an interpreter in a place already reserved; gives the place back if the start fails.</summary>
    private async Task<Member> StartReservedAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await StartMemberAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Unreserve();
            if (Volatile.Read(ref waiting) > 0)
            {
                idle.Writer.TryWrite(null); // Wake a waiting operation: it may start one itself now.
            }

            throw;
        }
    }

    private void Return(Member member)
    {
        member.TasksDone++;
        if (!member.IsUsable || options.MaxTasksPerInterpreter is { } limit && member.TasksDone >= limit || stopping.IsCancellationRequested)
        {
            Drop(member);
            return;
        }

        idle.Writer.TryWrite(member);
    }

    private void Drop(Member member)
    {
        if (members.TryRemove(member.Interpreter, out _))
        {
            Unreserve();
            Track(member.Interpreter.CloseAsync());
        }

        // Keep the minimum alive, and serve operations waiting in a full pool: replace what was dropped, in the background.
        bool needed;
        lock (gate)
        {
            needed = !closed && (population < options.MinInterpreters || Volatile.Read(ref waiting) > 0);
        }

        if (needed && TryReserve())
        {
            Track(ReplenishAsync());
        }
    }

    /// <summary>Keeps a background task until it ends, so that closing the pool can wait for it.</summary>
    private void Track(Task task)
    {
        if (!task.IsCompleted)
        {
            background[task] = true;
            _ = task.ContinueWith(t => background.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private async Task ReplenishAsync()
    {
        try
        {
            Member member = await StartReservedAsync(stopping.Token).ConfigureAwait(false);
            if (closed)
            {
                if (members.TryRemove(member.Interpreter, out _))
                {
                    Unreserve();
                }

                await member.Interpreter.CloseAsync(CancellationToken.None).ConfigureAwait(false);
                return;
            }

            idle.Writer.TryWrite(member);
        }
#pragma warning disable CA1031 // Any failure here (the initializer's too) is met again by the next operation, which reports it.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    /// <summary>Starts the minimum, in places reserved by the constructor.</summary>
    private Task StartMinimumAsync() =>
        Task.WhenAll(Enumerable.Range(0, options.MinInterpreters).Select(async _ =>
        {
            Member member = await StartReservedAsync(stopping.Token).ConfigureAwait(false);
            idle.Writer.TryWrite(member);
        }));

    private async Task<Member> StartMemberAsync(CancellationToken cancellationToken)
    {
        Interpreter interpreter = await Interpreters.CreateAsync(options.MemberOptions, cancellationToken).ConfigureAwait(false);
        try
        {
            if (options.Initializer is { } initialize)
            {
                await initialize(interpreter, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            await interpreter.CloseAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        var member = new Member(interpreter);
        members[interpreter] = member;
        return member;
    }

    private async Task CloseCoreAsync()
    {
        await drained.Task.ConfigureAwait(false);

        // Nothing runs any more: stop starting interpreters, and wait for what was being started or closed.
        await stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(background.Keys.Append(warmUp).Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default))).ConfigureAwait(false);
        await Task.WhenAll(members.Keys.Select(i => i.CloseAsync(CancellationToken.None))).ConfigureAwait(false);
        members.Clear();
        while (idle.Reader.TryRead(out _))
        {
        }
    }

    private sealed class Member(Interpreter interpreter)
    {
        public Interpreter Interpreter { get; } = interpreter;

        public int TasksDone { get; set; }

        /// <summary>An operation on it failed with <see cref="InterpreterCrashedException"/>.</summary>
        public bool Crashed { get; set; }

        public bool IsUsable => !Crashed && Interpreter.State is InterpreterState.Idle or InterpreterState.Running or InterpreterState.Starting;
    }
}
