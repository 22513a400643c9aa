using MessagePack;
using ProcIsolates.Protocol.Messages;
using ProcIsolates.Protocol.Serialization;
using ProcIsolates.Protocol.Transport;
using ProcIsolates.Worker.Execution;

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
            RoundTrip(new CallRequest { DeclaringType = typeof(WorkerWarmup).AssemblyQualifiedName!, MethodName = nameof(Nothing), MetadataToken = 0, Arguments = [] });
            RoundTrip(new CallReply { Result = [0x90] });
            RoundTrip(new ExecRequest { CodeId = "warmup", Variables = new Dictionary<string, byte[]> { ["x"] = [0x01] } });
            RoundTrip(new ExecReply { Stdout = string.Empty, Stderr = string.Empty, Error = RemoteError.From(new InvalidOperationException()) });
            RoundTrip(new InitializeRequest());
            ShareableSerializer.Deserialize<int>(ShareableSerializer.Serialize(1));

            var nothing = typeof(WorkerWarmup).GetMethod(nameof(Nothing), System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)!;
            await new MethodDispatcher().InvokeAsync(
                new CallRequest { DeclaringType = typeof(WorkerWarmup).AssemblyQualifiedName!, MethodName = nothing.Name, MetadataToken = nothing.MetadataToken, Arguments = [] },
                CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or BadCallException or NotShareableValueException)
        {
            // Warm-up is an optimisation only; the real request reports any real problem.
        }
    }

    private static void Nothing()
    {
    }

    private static void RoundTrip<T>(T message) =>
        MessagePackSerializer.Deserialize<T>(MessagePackSerializer.Serialize(message, RpcChannel.MessageOptions), RpcChannel.MessageOptions);
}
