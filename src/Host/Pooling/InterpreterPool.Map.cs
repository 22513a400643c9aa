using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace ProcIsolates;

/// <summary><see cref="InterpreterPool.MapAsync{TItem, TResult}(IEnumerable{TItem}, Expression{Func{TItem, TResult}}, int, bool, CancellationToken)"/>: Python's <c>ProcessPoolExecutor.map</c> with chunks.</summary>
public sealed partial class InterpreterPool
{
    /// <summary>The chunk size when none is given and the number of items is unknown.</summary>
    private const int DefaultChunkSize = 16;

    /// <summary>
    /// Applies a static method to every item on the pool's interpreters, <paramref name="chunkSize"/> items per call,
    /// like Python's <c>ProcessPoolExecutor.map(f, items, chunksize=)</c> (or, with <paramref name="ordered"/> false,
    /// like <c>as_completed</c>). Results stream as chunks finish, in the items' order unless
    /// <paramref name="ordered"/> is <see langword="false"/>. Up to two chunks per interpreter are in flight, and items
    /// are read from <paramref name="items"/> only as fast as chunks are sent.
    /// </summary>
    /// <typeparam name="TItem">The item type (shareable).</typeparam>
    /// <typeparam name="TResult">The result type (shareable).</typeparam>
    /// <param name="items">The items.</param>
    /// <param name="function">A call of a static method on the item, like <c>x =&gt; Jobs.Square(x)</c>.</param>
    /// <param name="chunkSize">Items per call; 0 for automatic (about four chunks per interpreter for a collection, else 16).</param>
    /// <param name="ordered">Whether results come in the items' order (<see langword="true"/>) or as their chunks complete.</param>
    /// <param name="cancellationToken">Stops the enumeration: chunks not yet sent are not, chunks in flight are cancelled.</param>
    /// <returns>The results.</returns>
    /// <exception cref="ArgumentException"><paramref name="function"/> is not a call of a static method on its parameter.</exception>
    /// <exception cref="ExecutionFailedException">The method threw for an item: the enumeration ends there, the chunks after it are cancelled.</exception>
    public IAsyncEnumerable<TResult> MapAsync<TItem, TResult>(IEnumerable<TItem> items, Expression<Func<TItem, TResult>> function, int chunkSize = 0, bool ordered = true, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        int size = chunkSize > 0 ? chunkSize
            : items.TryGetNonEnumeratedCount(out int count) ? Math.Clamp(count / (4 * options.MaxInterpreters), 1, 1024)
            : DefaultChunkSize;
        return MapCoreAsync<TItem, TResult>(Asynchronous(items), MapFunction.From(function, chunkSize), size, ordered, cancellationToken);
    }

    /// <inheritdoc cref="MapAsync{TItem, TResult}(IEnumerable{TItem}, Expression{Func{TItem, TResult}}, int, bool, CancellationToken)"/>
    public IAsyncEnumerable<TResult> MapAsync<TItem, TResult>(IAsyncEnumerable<TItem> items, Expression<Func<TItem, TResult>> function, int chunkSize = 0, bool ordered = true, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        return MapCoreAsync<TItem, TResult>(items, MapFunction.From(function, chunkSize), chunkSize > 0 ? chunkSize : DefaultChunkSize, ordered, cancellationToken);
    }

    private static async IAsyncEnumerable<T> Asynchronous<T>(IEnumerable<T> items)
    {
        foreach (T item in items)
        {
            yield return item;
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    private async IAsyncEnumerable<TResult> MapCoreAsync<TItem, TResult>(
        IAsyncEnumerable<TItem> items, MapFunction function, int chunkSize, bool ordered, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        MethodInfo apply = typeof(MapChunk).GetMethod(nameof(MapChunk.Apply))!.MakeGenericMethod(typeof(TItem), typeof(TResult));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var inFlight = new List<Task<TResult[]>>();
        int window = 2 * options.MaxInterpreters;
        IAsyncEnumerator<TItem> source = items.GetAsyncEnumerator(stop.Token);
        try
        {
            bool more = true;
            while (true)
            {
                while (more && inFlight.Count < window)
                {
                    var chunk = new List<TItem>(chunkSize);
                    while (chunk.Count < chunkSize && (more = await source.MoveNextAsync().ConfigureAwait(false)))
                    {
                        chunk.Add(source.Current);
                    }

                    if (chunk.Count > 0)
                    {
                        Expression<Func<TResult[]>> call = Expression.Lambda<Func<TResult[]>>(Expression.Call(
                            apply, Expression.Constant(function.DeclaringType), Expression.Constant(function.MetadataToken), Expression.Constant(function.Name), Expression.Constant(chunk.ToArray())));
                        inFlight.Add(CallAsync(call, stop.Token));
                    }
                }

                if (inFlight.Count == 0)
                {
                    yield break;
                }

                Task<TResult[]> done = ordered ? inFlight[0] : await Task.WhenAny(inFlight).ConfigureAwait(false);
                inFlight.Remove(done);
                foreach (TResult result in await done.ConfigureAwait(false))
                {
                    yield return result;
                }
            }
        }
        finally
        {
            // Stopped early (a failure, the caller's break or cancellation): the rest is cancelled and observed.
            await stop.CancelAsync().ConfigureAwait(false);
            foreach (Task<TResult[]> pending in inFlight)
            {
                _ = pending.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }

            await source.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The static method a map applies, named as a call names it.</summary>
    private sealed record MapFunction(string DeclaringType, int MetadataToken, string Name)
    {
        public static MapFunction From(LambdaExpression function, int chunkSize)
        {
            ArgumentNullException.ThrowIfNull(function);
            ArgumentOutOfRangeException.ThrowIfNegative(chunkSize);
            Expression body = function.Body;
            while (body is UnaryExpression { NodeType: ExpressionType.Convert or ExpressionType.ConvertChecked } convert)
            {
                body = convert.Operand;
            }

            Expression? argument = body is MethodCallExpression { Object: null, Arguments.Count: 1 } call ? call.Arguments[0] : null;
            while (argument is UnaryExpression { NodeType: ExpressionType.Convert } inner)
            {
                argument = inner.Operand;
            }

            if (body is not MethodCallExpression { Method: { IsGenericMethod: false, DeclaringType: { } declaring } method } || argument != function.Parameters[0])
            {
                throw new ArgumentException(
                    $"The function must call a non-generic static method on its parameter, like 'x => Jobs.Square(x)'; '{function}' is not such a call.", nameof(function));
            }

            return new MapFunction(declaring.AssemblyQualifiedName!, method.MetadataToken, method.Name);
        }
    }
}
