using System.Buffers.Binary;
using MessagePack;
using Nerdbank.Streams;
using ProcIsolates.Protocol.Contracts;
using ProcIsolates.Protocol.Messages;
using ProcIsolates.Protocol.Transport;
using StreamJsonRpc;

namespace ProcIsolates.Tests.Protocol;

/// <summary>Pins the bytes on the pipe to what docs/protocol.md says, so that a worker in another language can rely on it.</summary>
public sealed class WireFormatTests
{
    [Fact]
    public async Task A_request_is_a_length_prefixed_messagepack_json_rpc_message_with_positional_params()
    {
        (JsonRpc rpc, IWorkerService proxy, Stream worker) = ConnectToFakeWorker();
        using JsonRpc disposeRpc = rpc;
        Task<int> call = proxy.InitializeAsync(new InitializeRequest { InterpreterId = 5 }, CancellationToken.None);

        string json = MessagePackSerializer.ConvertToJson(await ReadFrameAsync(worker));
        long id = IdOf(json);
        Assert.Equal($$"""{"jsonrpc":"2.0","id":{{id}},"method":"InitializeAsync","params":[[5]]}""", json);

        // The worker's answer, written by hand as the protocol document describes it.
        byte[] reply = MessagePackSerializer.ConvertFromJson($$"""{"jsonrpc":"2.0","id":{{id}},"result":4242}""");
        await WriteFrameAsync(worker, reply);
        Assert.Equal(4242, await call);
    }

    [Fact]
    public async Task Messages_are_arrays_in_key_order()
    {
        var request = new CallRequest { DeclaringType = "T, A", MetadataToken = 0x06000001, MethodName = "M", GenericArguments = [], Arguments = [[0x01], null] };
        string json = MessagePackSerializer.ConvertToJson(MessagePackSerializer.Serialize(request, RpcChannel.MessageOptions));
        Assert.Equal("""["T, A",100663297,"M",[],["AQ==",null],0]""", json);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task A_cancelled_request_sends_a_cancel_notification_with_its_id()
    {
        (JsonRpc rpc, IWorkerService proxy, Stream worker) = ConnectToFakeWorker();
        using JsonRpc disposeRpc = rpc;
        using var cancel = new CancellationTokenSource();
        Task<int> call = proxy.PingAsync(cancel.Token);
        string json = MessagePackSerializer.ConvertToJson(await ReadFrameAsync(worker));
        long id = IdOf(json);
        Assert.Equal($$"""{"jsonrpc":"2.0","id":{{id}},"method":"PingAsync","params":[]}""", json);

        await cancel.CancelAsync();
        Assert.Equal($$$"""{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":{{{id}}}}}""", MessagePackSerializer.ConvertToJson(await ReadFrameAsync(worker)));
        Assert.False(call.IsCompleted);
    }

    [Fact]
    public async Task A_frame_that_is_not_messagepack_ends_the_connection_without_hurting_the_host()
    {
        (JsonRpc rpc, IWorkerService proxy, Stream peer) = ConnectToFakeWorker();
        using JsonRpc disposeRpc = rpc;
        Task<int> call = proxy.PingAsync(CancellationToken.None);
        await ReadFrameAsync(peer);

        await WriteFrameAsync(peer, [0xc1, 0xc1, 0xc1]); // 0xc1 is never used in MessagePack
        await Assert.ThrowsAnyAsync<Exception>(() => rpc.Completion).WaitAsync(TimeSpan.FromSeconds(5));
        await Assert.ThrowsAsync<ConnectionLostException>(() => call).WaitAsync(TimeSpan.FromSeconds(5));
    }

    /// <summary>A host-side connection whose other end is a bare stream the test reads and writes as the worker.</summary>
    private static (JsonRpc Rpc, IWorkerService Proxy, Stream Worker) ConnectToFakeWorker()
    {
        (Stream host, Stream worker) = FullDuplexStream.CreatePair();
        JsonRpc rpc = RpcChannel.Create(host);
        IWorkerService proxy = rpc.Attach<IWorkerService>();
        rpc.StartListening();
        return (rpc, proxy, worker);
    }

    private static long IdOf(string json) => System.Text.Json.JsonDocument.Parse(json).RootElement.GetProperty("id").GetInt64();

    private static async Task<byte[]> ReadFrameAsync(Stream stream)
    {
        byte[] header = new byte[4];
        await stream.ReadExactlyAsync(header);
        byte[] body = new byte[BinaryPrimitives.ReadInt32BigEndian(header)];
        await stream.ReadExactlyAsync(body);
        return body;
    }

    private static async Task WriteFrameAsync(Stream stream, byte[] body)
    {
        byte[] header = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(header, body.Length);
        await stream.WriteAsync(header);
        await stream.WriteAsync(body);
        await stream.FlushAsync();
    }
}
