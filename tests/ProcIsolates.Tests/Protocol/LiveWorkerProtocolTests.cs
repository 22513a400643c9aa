using System.Diagnostics;
using System.IO.Pipes;
using ProcIsolates.Protocol.Transport;
using StreamJsonRpc;

namespace ProcIsolates.Tests.Protocol;

/// <summary>A real worker process, driven by the test as its host over the documented protocol, given requests ProcIsolates never sends.</summary>
public sealed class LiveWorkerProtocolTests
{
    [Fact]
    public async Task A_live_worker_answers_unknown_methods_and_wrong_arguments_with_json_rpc_errors_and_goes_on()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        PipeEndpoint endpoint = PipeEndpoint.Create(0x7e57);
        // The worker opens two connections, one per ConnectionRole, so two server instances listen.
        await using var first = new NamedPipeServerStream(endpoint.PipeName, PipeDirection.InOut, 2, PipeTransmissionMode.Byte, PipeOptions.Asynchronous | PipeOptions.CurrentUserOnly);
        await using var second = new NamedPipeServerStream(endpoint.PipeName, PipeDirection.InOut, 2, PipeTransmissionMode.Byte, PipeOptions.Asynchronous | PipeOptions.CurrentUserOnly);
        using Process worker = StartWorker(endpoint.PipeName);
        try
        {
            byte[] token = Handshake.NewToken();
            await worker.StandardInput.WriteLineAsync(Convert.ToBase64String(token));
            await worker.StandardInput.FlushAsync();
            await first.WaitForConnectionAsync(timeout.Token);
            Assert.Equal(ConnectionRole.Calls, await Handshake.ServerAsync(first, token, timeout.Token));
            await second.WaitForConnectionAsync(timeout.Token);
            Assert.Equal(ConnectionRole.ChannelData, await Handshake.ServerAsync(second, token, timeout.Token));
            endpoint.DeleteSocketFile();
            await using WorkerStreams streams = WorkerStreams.Create(first, second);
            using JsonRpc rpc = RpcChannel.Create(streams.Rpc);
            rpc.StartListening();

            Assert.Equal(worker.Id, await rpc.InvokeWithCancellationAsync<int>("PingAsync", [], timeout.Token));

            // A method the worker does not serve: JSON-RPC's "method not found", and the worker goes on.
            await Assert.ThrowsAsync<RemoteMethodNotFoundException>(() => rpc.InvokeWithCancellationAsync<int>("FormatDiskAsync", [], timeout.Token));

            // Arguments that do not fit the method: an error reply, not a crash.
            await Assert.ThrowsAnyAsync<RemoteRpcException>(() => rpc.InvokeWithCancellationAsync<object>("CallAsync", ["not a request", 42], timeout.Token));
            await Assert.ThrowsAnyAsync<RemoteRpcException>(() => rpc.InvokeWithCancellationAsync<object>("InitializeAsync", [new object[] { "x", "y", "z" }], timeout.Token));

            Assert.Equal(worker.Id, await rpc.InvokeWithCancellationAsync<int>("PingAsync", [], timeout.Token));
            Assert.False(worker.HasExited);
        }
        finally
        {
            worker.Kill();
            await worker.WaitForExitAsync();
        }
    }

    /// <summary>Starts the worker the way ProcIsolates does: <c>dotnet exec</c> with this test assembly's runtimeconfig and deps files.</summary>
    private static Process StartWorker(string pipeName)
    {
        string directory = AppContext.BaseDirectory;
        string testAssembly = typeof(LiveWorkerProtocolTests).Assembly.Location;
        var start = new ProcessStartInfo(Environment.ProcessPath is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
        };
        foreach (string argument in new[]
        {
            "exec", "--runtimeconfig", Path.ChangeExtension(testAssembly, ".runtimeconfig.json"), "--depsfile", Path.ChangeExtension(testAssembly, ".deps.json"),
            Path.Combine(directory, "ProcIsolates.Worker.dll"), "--pipe", pipeName, "--parent", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture),
        })
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start)!;
    }
}
