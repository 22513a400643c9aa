using System.Buffers;
using MessagePack;
using MessagePack.Resolvers;

namespace ProcIsolates.Protocol.Serialization;

/// <summary>
/// Serializes the values that cross between interpreters (call arguments and results, exec variables) with
/// MessagePack. Values travel as their declared type; <see cref="ShareableTypes"/> decides which types may travel.
/// </summary>
public static class ShareableSerializer
{
    /// <summary>
    /// Contractless, so that plain records and classes need no attributes; hardened against hostile input because a
    /// worker's bytes are not trusted by the host.
    /// </summary>
    public static MessagePackSerializerOptions Options { get; } =
        ContractlessStandardResolver.Options
            .WithResolver(CompositeResolver.Create(Channels.ChannelEndResolver.Instance, ContractlessStandardResolver.Instance))
            .WithSecurity(MessagePackSecurity.UntrustedData);

    /// <summary>Serializes a value as <paramref name="declaredType"/>.</summary>
    /// <param name="declaredType">The parameter, variable or result type the receiver expects.</param>
    /// <param name="value">The value.</param>
    /// <returns>The MessagePack bytes.</returns>
    /// <exception cref="NotShareableValueException">The value cannot travel as that type.</exception>
    public static byte[] Serialize(Type declaredType, object? value)
    {
        ArgumentNullException.ThrowIfNull(declaredType);
        ShareableTypes.EnsureValue(declaredType, value);
        try
        {
            return MessagePackSerializer.Serialize(declaredType, value, Options);
        }
        catch (MessagePackSerializationException ex)
        {
            throw new NotShareableValueException(value?.GetType() ?? declaredType, ex.InnerException?.Message ?? ex.Message, ex);
        }
    }

    /// <summary>Serializes a value of a type known at compile time (channel items).</summary>
    /// <typeparam name="T">The declared type.</typeparam>
    /// <param name="value">The value.</param>
    /// <returns>The MessagePack bytes.</returns>
    /// <exception cref="NotShareableValueException">The value cannot travel as that type.</exception>
    public static byte[] Serialize<T>(T value)
    {
        ShareableTypes.EnsureValue(typeof(T), value);
        try
        {
            return MessagePackSerializer.Serialize(value, Options);
        }
        catch (MessagePackSerializationException ex)
        {
            throw new NotShareableValueException(value?.GetType() ?? typeof(T), ex.InnerException?.Message ?? ex.Message, ex);
        }
    }

    /// <summary>Serializes a value of a type known at compile time into <paramref name="output"/>, without a final copy.</summary>
    /// <typeparam name="T">The declared type.</typeparam>
    /// <param name="output">Where the MessagePack bytes go.</param>
    /// <param name="value">The value.</param>
    /// <exception cref="NotShareableValueException">The value cannot travel as that type.</exception>
    public static void Serialize<T>(IBufferWriter<byte> output, T value)
    {
        ArgumentNullException.ThrowIfNull(output);
        ShareableTypes.EnsureValue(typeof(T), value);
        try
        {
            MessagePackSerializer.Serialize(output, value, Options);
        }
        catch (MessagePackSerializationException ex)
        {
            throw new NotShareableValueException(value?.GetType() ?? typeof(T), ex.InnerException?.Message ?? ex.Message, ex);
        }
    }

    /// <summary>Deserializes a value of a type known at compile time (channel items).</summary>
    /// <typeparam name="T">The declared type.</typeparam>
    /// <param name="bytes">The MessagePack bytes.</param>
    /// <returns>The value.</returns>
    /// <exception cref="NotShareableValueException">The bytes do not make a value of that type.</exception>
    public static T Deserialize<T>(ReadOnlyMemory<byte> bytes)
    {
        try
        {
            return MessagePackSerializer.Deserialize<T>(bytes, Options);
        }
        catch (MessagePackSerializationException ex)
        {
            throw new NotShareableValueException(typeof(T), "it could not be recreated from its serialized form: " + (ex.InnerException?.Message ?? ex.Message), ex);
        }
    }

    /// <summary>Deserializes a value of <paramref name="declaredType"/>.</summary>
    /// <param name="declaredType">The type the sender serialized.</param>
    /// <param name="bytes">The MessagePack bytes.</param>
    /// <returns>The value.</returns>
    /// <exception cref="NotShareableValueException">The bytes do not make a value of that type.</exception>
    public static object? Deserialize(Type declaredType, ReadOnlyMemory<byte> bytes)
    {
        ArgumentNullException.ThrowIfNull(declaredType);
        try
        {
            return MessagePackSerializer.Deserialize(declaredType, bytes, Options);
        }
        catch (MessagePackSerializationException ex)
        {
            throw new NotShareableValueException(declaredType, "it could not be recreated from its serialized form: " + (ex.InnerException?.Message ?? ex.Message), ex);
        }
    }
}
