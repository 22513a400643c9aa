using MessagePack;
using MessagePack.Resolvers;
using ProcIsolates.Protocol.Messages;
using ProcIsolates.Protocol.Transport;

namespace ProcIsolates.Tests.Protocol;

/// <summary>
/// The protocol messages' written-out formatters against MessagePack's own attribute-driven ones, which wrote the
/// wire format before: the same bytes both ways, and hostile or older variants read safely.
/// </summary>
public sealed class MessageFormatterTests
{
    /// <summary>MessagePack building the formatters from the [Key] attributes, as it did before the formatters were written out.</summary>
    private static readonly MessagePackSerializerOptions Generated = MessagePackSerializerOptions.Standard.WithResolver(
        CompositeResolver.Create(BuiltinResolver.Instance, DynamicEnumResolver.Instance, DynamicGenericResolver.Instance, DynamicObjectResolver.Instance));

    /// <summary>For hand-made messages (arrays of objects).</summary>
    private static readonly MessagePackSerializerOptions Raw = MessagePackSerializerOptions.Standard;

    private static readonly RemoteError Error = new() { Kind = RemoteErrorKind.NotShareable, TypeName = "T", Message = "m", StackTrace = "at x", Detail = null };

    public static TheoryData<object> Messages() =>
    [
        new InitializeRequest { InterpreterId = 42 },
        new CallRequest { DeclaringType = "A, B", MetadataToken = 0x06000001, MethodName = "M", GenericArguments = ["System.Int32"], Arguments = [[0x01], null], ChannelFrames = 7 },
        new CallReply { Result = [0x90], Error = Error },
        new CallReply { Result = null, Error = null },
        new ExecRequest { CodeId = "c", Assembly = [1, 2, 3], Variables = new() { ["x"] = [0x2a] }, ChannelFrames = 3 },
        new ExecRequest { CodeId = "c" },
        new ExecReply { Stdout = "out", Stderr = string.Empty, DurationTicks = 99, Error = Error },
    ];

    [Theory]
    [MemberData(nameof(Messages))]
    public void Each_message_is_written_as_the_attributes_say(object message)
    {
        byte[] written = MessagePackSerializer.Serialize(message.GetType(), message, RpcChannel.MessageOptions);
        Assert.Equal(MessagePackSerializer.Serialize(message.GetType(), message, Generated), written);

        object? read = MessagePackSerializer.Deserialize(message.GetType(), written, RpcChannel.MessageOptions);
        Assert.Equal(MessagePackSerializer.Serialize(message.GetType(), message, Generated), MessagePackSerializer.Serialize(message.GetType(), read, Generated));
    }

    [Fact]
    public void Fields_a_newer_peer_adds_are_skipped_and_missing_optional_ones_take_defaults()
    {
        // [DeclaringType, MetadataToken, MethodName, GenericArguments, Arguments, ChannelFrames, something new]
        byte[] longer = MessagePackSerializer.Serialize(new object?[] { "A", 5, "M", new[] { "G" }, new byte[][] { [1] }, 2L, "extra" }, Raw);
        CallRequest call = MessagePackSerializer.Deserialize<CallRequest>(longer, RpcChannel.MessageOptions);
        Assert.Equal(("A", 5, "M", 2L), (call.DeclaringType, call.MetadataToken, call.MethodName, call.ChannelFrames));
        Assert.Equal([[1]], call.Arguments);

        byte[] shorter = MessagePackSerializer.Serialize(new object?[] { "A", 5, "M", null, Array.Empty<byte[]>() }, Raw);
        CallRequest older = MessagePackSerializer.Deserialize<CallRequest>(shorter, RpcChannel.MessageOptions);
        Assert.Empty(older.GenericArguments);
        Assert.Equal(0, older.ChannelFrames);
    }

    [Fact]
    public void A_message_without_a_required_field_is_refused()
    {
        byte[] noMethod = MessagePackSerializer.Serialize(new object?[] { "A", 5, null, null, Array.Empty<byte[]>() }, Raw);
        var error = Assert.Throws<MessagePackSerializationException>(() => MessagePackSerializer.Deserialize<CallRequest>(noMethod, RpcChannel.MessageOptions));
        Assert.Contains("MethodName", error.ToString(), StringComparison.Ordinal);

        byte[] noArguments = MessagePackSerializer.Serialize(new object?[] { "A", 5, "M" }, Raw);
        Assert.Throws<MessagePackSerializationException>(() => MessagePackSerializer.Deserialize<CallRequest>(noArguments, RpcChannel.MessageOptions));

        byte[] noCode = MessagePackSerializer.Serialize(new object?[] { null }, Raw);
        Assert.Throws<MessagePackSerializationException>(() => MessagePackSerializer.Deserialize<ExecRequest>(noCode, RpcChannel.MessageOptions));
    }

    [Fact]
    public void Nesting_deeper_than_the_security_limit_is_refused()
    {
        // An error inside a reply inside ... : each message level counts against UntrustedData's depth guard.
        var shallow = RpcChannel.MessageOptions.WithSecurity(MessagePackSecurity.UntrustedData.WithMaximumObjectGraphDepth(1));
        byte[] reply = MessagePackSerializer.Serialize(new CallReply { Result = null, Error = Error }, RpcChannel.MessageOptions);
        Assert.Throws<MessagePackSerializationException>(() => MessagePackSerializer.Deserialize<CallReply>(reply, shallow));
        Assert.NotNull(MessagePackSerializer.Deserialize<CallReply>(reply, RpcChannel.MessageOptions).Error);
    }

    [Fact]
    public void A_wrong_type_in_a_field_is_a_serialization_error_not_a_crash()
    {
        byte[] wrong = MessagePackSerializer.Serialize(new object?[] { "A", "not a number", "M", null, Array.Empty<byte[]>() }, Raw);
        Assert.Throws<MessagePackSerializationException>(() => MessagePackSerializer.Deserialize<CallRequest>(wrong, RpcChannel.MessageOptions));
    }
}
