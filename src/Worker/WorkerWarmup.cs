using System.IO.Pipelines;
using MessagePack;
using Nerdbank.Streams;
using ProcIsolates.Protocol.Contracts;
using ProcIsolates.Protocol.Messages;
using ProcIsolates.Protocol.Serialization;
using ProcIsolates.Protocol.Transport;
using ProcIsolates.Worker.Execution;
using StreamJsonRpc;

namespace ProcIsolates.Worker;

/// <summary>
/// Runs the worker's request path once on made-up data at start-up, while the main thread connects to the host:
/// MessagePack builds its formatters for the protocol messages and the JIT compiles the dispatch code, so the first
/// real call does not pay for them.
/// </summary>
internal static class WorkerWarmup
{
    public static async Task Run()
    {
        try
        {
            // Loading the library (and its channel support) here, while the main thread connects, keeps it off the
            // path of the first request; InitializeAsync only checks that it is done.
            HostLibrary.EnsureLoaded();

            // First what the main thread needs first: a JSON-RPC connection serving this worker's methods, and the
            // path of a request through it, over an in-memory pipe pair (an empty call, as the host's first one is).
            // That serializes InitializeRequest, CallRequest and CallReply both ways; the exec messages come next.
            await RoundTripThroughJsonRpcAsync().ConfigureAwait(false);
            RoundTrip(new ExecRequest { CodeId = "warmup", Variables = new Dictionary<string, byte[]> { ["x"] = [0x01] } });
            RoundTrip(new ExecReply { Stdout = string.Empty, Stderr = string.Empty, Error = RemoteError.From(new InvalidOperationException()) });
            ShareableSerializer.Deserialize<int>(ShareableSerializer.Serialize(1));
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or BadCallException or NotShareableValueException or RemoteInvocationException or ConnectionLostException)
        {
            // Warm-up is an optimisation only; the real request reports any real problem.
        }
    }

    private static void Nothing()
    {
    }

    private static async Task RoundTripThroughJsonRpcAsync()
    {
        (IDuplexPipe serverPipe, IDuplexPipe clientPipe) = FullDuplexStream.CreatePipePair();
        using JsonRpc server = RpcChannel.Create(serverPipe);
        using JsonRpc client = RpcChannel.Create(clientPipe);
        server.AddLocalRpcTarget<IWorkerService>(new WorkerService(), options: null);
        server.StartListening();
        client.StartListening();
        var nothing = typeof(WorkerWarmup).GetMethod(nameof(Nothing), System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)!;
        var request = new CallRequest { DeclaringType = typeof(WorkerWarmup).AssemblyQualifiedName!, MethodName = nothing.Name, MetadataToken = nothing.MetadataToken, Arguments = [] };
        await client.InvokeWithCancellationAsync<int>(nameof(IWorkerService.InitializeAsync), [new InitializeRequest { InterpreterId = InitializeRequest.WarmUpOnly }], CancellationToken.None).ConfigureAwait(false);
        await client.InvokeWithCancellationAsync<CallReply>(nameof(IWorkerService.CallAsync), [request], CancellationToken.None).ConfigureAwait(false);
    }

    private static void RoundTrip<T>(T message) =>
        MessagePackSerializer.Deserialize<T>(MessagePackSerializer.Serialize(message, RpcChannel.MessageOptions), RpcChannel.MessageOptions);
}
