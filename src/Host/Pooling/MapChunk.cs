using System.Collections.Concurrent;
using System.Reflection;

namespace ProcIsolates;

/// <summary>
/// Runs inside the interpreter: applies the mapped static method to each item of a chunk, so that a chunk of
/// <see cref="InterpreterPool.MapAsync{TItem, TResult}(IEnumerable{TItem}, System.Linq.Expressions.Expression{Func{TItem, TResult}}, int, bool, CancellationToken)"/>
/// costs one call. The method is named the way a call names it (type, metadata token, name) and found once per process.
/// </summary>
internal static class MapChunk
{
    private static readonly ConcurrentDictionary<(string Type, int Token, Type Item, Type Result), Delegate> Functions = new();

    /// <summary>Applies the method to every item, in order.</summary>
    /// <typeparam name="TItem">The item type.</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="declaringType">The method's type, assembly-qualified.</param>
    /// <param name="metadataToken">The method's metadata token.</param>
    /// <param name="methodName">The method's name (checked against the token).</param>
    /// <param name="items">The chunk.</param>
    /// <returns>One result per item.</returns>
    public static TResult[] Apply<TItem, TResult>(string declaringType, int metadataToken, string methodName, TItem[] items)
    {
        var function = (Func<TItem, TResult>)Functions.GetOrAdd((declaringType, metadataToken, typeof(TItem), typeof(TResult)), key => Find<TItem, TResult>(key.Type, key.Token, methodName));
        var results = new TResult[items.Length];
        for (int i = 0; i < items.Length; i++)
        {
            results[i] = function(items[i]);
        }

        return results;
    }

    private static Func<TItem, TResult> Find<TItem, TResult>(string declaringType, int metadataToken, string methodName)
    {
        Type type = Type.GetType(declaringType, throwOnError: true)!;
        MethodInfo method = type.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
            .FirstOrDefault(m => m.MetadataToken == metadataToken && m.Name == methodName)
            ?? throw new MissingMethodException($"'{type}' has no static method '{methodName}' with token 0x{metadataToken:x8}.");

        // A delegate when the signature allows (variance included), else a reflection call per item.
        try
        {
            return method.CreateDelegate<Func<TItem, TResult>>();
        }
        catch (ArgumentException)
        {
            // Another signature (a conversion in the lambda, say int to long): converted as the compiler would.
            System.Linq.Expressions.ParameterExpression item = System.Linq.Expressions.Expression.Parameter(typeof(TItem));
            System.Linq.Expressions.Expression call = System.Linq.Expressions.Expression.Call(method, System.Linq.Expressions.Expression.Convert(item, method.GetParameters()[0].ParameterType));
            return System.Linq.Expressions.Expression.Lambda<Func<TItem, TResult>>(System.Linq.Expressions.Expression.Convert(call, typeof(TResult)), item).Compile();
        }
    }
}
