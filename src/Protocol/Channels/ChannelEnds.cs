using System.ComponentModel;
using System.Threading.Channels;

namespace ProcIsolates.Protocol.Channels;

/// <summary>
/// Turns handles back into channel ends when values are deserialized. The ProcIsolates library installs the
/// <see cref="Materializer"/> (the broker in the host, the channel client in a worker); this assembly only knows
/// which types are channel ends.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class ChannelEnds
{
    /// <summary>Makes the end a handle stands for, as the requested type (a <c>ChannelReader&lt;T&gt;</c>, …).</summary>
    public static Func<ChannelHandle, Type, object>? Materializer { get; set; }

    /// <summary>Told of each handle about to be serialized, so that the broker learns the channel may reach other processes.</summary>
    public static Action<ChannelHandle>? Exporting { get; set; }

    /// <summary>Whether values of <paramref name="type"/> travel as handles.</summary>
    /// <param name="type">A declared or actual type.</param>
    /// <returns><see langword="true"/> for channel end types.</returns>
    public static bool IsEndType(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (typeof(IInterpreterChannelEnd).IsAssignableFrom(type))
        {
            return true;
        }

        if (!type.IsGenericType)
        {
            return false;
        }

        Type definition = type.GetGenericTypeDefinition();
        return definition == typeof(Channel<>) || definition == typeof(ChannelReader<>) || definition == typeof(ChannelWriter<>);
    }

    /// <summary>The item type of a channel end type.</summary>
    /// <param name="type">A channel end type.</param>
    /// <returns>Its <c>T</c>.</returns>
    public static Type ItemType(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        for (Type? t = type; t is not null; t = t.BaseType)
        {
            if (t.IsGenericType)
            {
                Type definition = t.GetGenericTypeDefinition();
                if (definition == typeof(Channel<,>) || definition == typeof(ChannelReader<>) || definition == typeof(ChannelWriter<>) || definition == typeof(Channel<>))
                {
                    return t.GetGenericArguments()[0];
                }
            }
        }

        throw new ArgumentException($"'{type}' is not a channel end type.", nameof(type));
    }

    /// <summary>Which end a declared type asks for.</summary>
    /// <param name="type">A channel end type.</param>
    /// <returns>The end.</returns>
    public static ChannelEndKind KindOf(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        for (Type? t = type; t is not null; t = t.BaseType)
        {
            if (t.IsGenericType)
            {
                Type definition = t.GetGenericTypeDefinition();
                if (definition == typeof(ChannelReader<>))
                {
                    return ChannelEndKind.Reader;
                }

                if (definition == typeof(ChannelWriter<>))
                {
                    return ChannelEndKind.Writer;
                }
            }
        }

        return ChannelEndKind.Channel;
    }
}
