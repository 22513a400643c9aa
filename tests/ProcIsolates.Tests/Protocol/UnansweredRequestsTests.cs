using System.Buffers.Binary;
using MessagePack;
using Nerdbank.Streams;
using ProcIsolates.Protocol.Transport;
using StreamJsonRpc;

namespace ProcIsolates.Tests.Protocol;

/// <summary>
/// A peer that sends requests and never reads the replies cannot make this side queue replies without end: past
/// <see cref="BoundedLengthHeaderMessageHandler.MaxUnansweredRequests"/> the connection ends, and this side is told.
/// No process: both ends are in-memory pipes, whose writer waits once 64 KiB are unread, as a full socket would.
/// </summary>
public sealed class UnansweredRequestsTests
{
    [Fact]
    public async Task A_peer_that_never_reads_its_replies_is_disconnected_past_the_limit()
    {
        (System.IO.Pipelines.IDuplexPipe ours, System.IO.Pipelines.IDuplexPipe theirs) = FullDuplexStream.CreatePipePair();
        var told = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        using JsonRpc rpc = RpcChannel.Create(ours, maxUnansweredRequests: 500, onTooManyUnanswered: told.SetResult);
        rpc.AddLocalRpcMethod("Echo", (Func<string, string>)(text => text));
        rpc.StartListening();

        // 100,000 requests whose replies (each ~2 KB) would be 200 MB; the peer reads none of them.
        string payload = new('x', 2000);
        Stream peer = theirs.AsStream();
        Task flood = Task.Run(async () =>
        {
            try
            {
                for (int i = 1; i <= 100_000 && !rpc.Completion.IsCompleted; i++)
                {
                    await WriteFrameAsync(peer, MessagePackSerializer.ConvertFromJson($$"""{"jsonrpc":"2.0","id":{{i}},"method":"Echo","params":["{{payload}}"]}"""));
                }
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
            {
                // The connection ended under the flood: what the test waits for.
            }
        });

        int waiting = await told.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(501, waiting);
        await rpc.Completion.WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(_ => { }, TaskScheduler.Default);
        Assert.True(rpc.Completion.IsCompleted); // Disconnected: nothing more is read or queued.
        await flood.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_peer_that_reads_its_replies_may_send_any_number_of_requests()
    {
        (System.IO.Pipelines.IDuplexPipe ours, System.IO.Pipelines.IDuplexPipe theirs) = FullDuplexStream.CreatePipePair();
        using JsonRpc rpc = RpcChannel.Create(ours, maxUnansweredRequests: 50, onTooManyUnanswered: _ => throw new Xunit.Sdk.XunitException("A reading peer was cut off."));
        rpc.AddLocalRpcMethod("Echo", (Func<string, string>)(text => text));
        rpc.StartListening();
        using JsonRpc peer = RpcChannel.Create(theirs);
        peer.StartListening();

        // 20 at a time, 2,000 in all: never more than 20 wait.
        for (int round = 0; round < 100; round++)
        {
            string[] replies = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => peer.InvokeAsync<string>("Echo", $"{round}-{i}")));
            Assert.Equal($"{round}-19", replies[19]);
        }

        Assert.False(rpc.Completion.IsCompleted);
    }

    private static async Task WriteFrameAsync(Stream stream, byte[] message)
    {
        byte[] header = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)message.Length);
        await stream.WriteAsync(header);
        await stream.WriteAsync(message);
        await stream.FlushAsync();
    }
}
