using System.ComponentModel;
using ProcIsolates.Protocol.Serialization;

namespace ProcIsolates.Worker.Execution;

/// <summary>
/// What compiled exec code reads its variables and its cancellation token from. The code generator emits calls to
/// these members; user code does not call them directly.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class ExecScope
{
    private static readonly AsyncLocal<Frame?> Current = new();

    /// <summary>The current exec's cancellation token.</summary>
    public static CancellationToken CancellationToken => Current.Value?.CancellationToken ?? CancellationToken.None;

    /// <summary>Deserializes the current exec's variable <paramref name="name"/>.</summary>
    /// <typeparam name="T">The variable's type, as the host declared it.</typeparam>
    /// <param name="name">The variable's name.</param>
    /// <returns>The value.</returns>
    public static T Variable<T>(string name)
    {
        Frame frame = CurrentFrame();
        lock (frame.Values)
        {
            if (frame.Values.TryGetValue(name, out object? known))
            {
                return (T)known!;
            }

            if (frame.Serialized is null || !frame.Serialized.TryGetValue(name, out byte[]? bytes))
            {
                throw new KeyNotFoundException($"The exec has no variable '{name}'.");
            }

            // Deserialized once per exec, so that the code sees one object however often it reads the variable.
            T value = ShareableSerializer.Deserialize<T>(bytes);
            frame.Values[name] = value;
            return value;
        }
    }

    /// <summary>Assigns the current exec's variable <paramref name="name"/>; the assignment lasts until the exec ends.</summary>
    /// <typeparam name="T">The variable's type.</typeparam>
    /// <param name="name">The variable's name.</param>
    /// <param name="value">The new value.</param>
    public static void SetVariable<T>(string name, T value)
    {
        Frame frame = CurrentFrame();
        lock (frame.Values)
        {
            frame.Values[name] = value;
        }
    }

    internal static void Enter(Dictionary<string, byte[]>? variables, CancellationToken cancellationToken) =>
        Current.Value = new Frame(variables, new Dictionary<string, object?>(StringComparer.Ordinal), cancellationToken);

    private static Frame CurrentFrame() =>
        Current.Value ?? throw new InvalidOperationException("Exec variables are only available while an exec runs.");

    private sealed record Frame(Dictionary<string, byte[]>? Serialized, Dictionary<string, object?> Values, CancellationToken CancellationToken);
}
