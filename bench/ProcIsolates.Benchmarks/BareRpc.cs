using System.Diagnostics;
using System.IO.Pipes;
using ProcIsolates.Protocol.Transport;
using StreamJsonRpc;

namespace ProcIsolates.Benchmarks;

/// <summary>The baseline: a bare StreamJsonRpc connection to another process, on the same kind of pipe, framing and formatter as ProcIsolates.</summary>
[JsonRpcContract]
public partial interface IEchoService
{
    /// <summary>Answers at once.</summary>
    Task<int> PingAsync(CancellationToken cancellationToken);
}

/// <summary>Serves <see cref="IEchoService"/>.</summary>
public sealed class EchoService : IEchoService
{
    /// <inheritdoc/>
    public Task<int> PingAsync(CancellationToken cancellationToken) => Task.FromResult(1);
}

/// <summary>Starts this benchmark executable as a bare echo server and connects to it.</summary>
public sealed class BareRpc : IAsyncDisposable
{
    private readonly Process server;
    private readonly JsonRpc rpc;

    private BareRpc(Process server, JsonRpc rpc, IEchoService proxy)
    {
        this.server = server;
        this.rpc = rpc;
        Proxy = proxy;
    }

    public IEchoService Proxy { get; }

    public static async Task<BareRpc> StartAsync()
    {
        PipeEndpoint endpoint = PipeEndpoint.Create(0);
        var pipe = new NamedPipeServerStream(endpoint.PipeName, PipeDirection.InOut, 1, PipeTransmissionMode.Byte, PipeOptions.Asynchronous | PipeOptions.CurrentUserOnly);
        var start = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            start.ArgumentList.Add(typeof(BareRpc).Assembly.Location);
        }

        start.ArgumentList.Add("serve");
        start.ArgumentList.Add(endpoint.PipeName);
        var server = Process.Start(start)!;
        await pipe.WaitForConnectionAsync();
        endpoint.DeleteSocketFile();
        JsonRpc rpc = RpcChannel.Create(pipe);
        IEchoService proxy = rpc.Attach<IEchoService>();
        rpc.StartListening();
        return new BareRpc(server, rpc, proxy);
    }

    /// <summary>The server side: runs until the client disconnects.</summary>
    public static async Task ServeAsync(string pipeName)
    {
        using var pipe = new NamedPipeClientStream(".", pipeName, PipeDirection.InOut, PipeOptions.Asynchronous | PipeOptions.CurrentUserOnly);
        await pipe.ConnectAsync();
        using JsonRpc rpc = RpcChannel.Create(pipe);
        rpc.AddLocalRpcTarget<IEchoService>(new EchoService(), null);
        rpc.StartListening();
        await rpc.Completion;
    }

    public async ValueTask DisposeAsync()
    {
        rpc.Dispose();
        await server.WaitForExitAsync();
        server.Dispose();
    }
}
