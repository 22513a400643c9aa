using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Pipes;
using ProcIsolates.Protocol.Transport;

namespace ProcIsolates.Benchmarks;

/// <summary>
/// The limit for channel throughput: the same items, length-prefixed, through one raw pipe (a Unix domain socket)
/// from this process to a child process that reads them, with no serialization, broker or multiplexing.
/// </summary>
public static class RawPipe
{
    /// <summary>Sends <paramref name="count"/> items of <paramref name="size"/> bytes to a reader process; returns the time until it has read them all.</summary>
    public static async Task<TimeSpan> SendAsync(int count, int size)
    {
        PipeEndpoint endpoint = PipeEndpoint.Create(0);
        await using var pipe = new NamedPipeServerStream(endpoint.PipeName, PipeDirection.InOut, 1, PipeTransmissionMode.Byte, PipeOptions.Asynchronous | PipeOptions.CurrentUserOnly);
        var start = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            start.ArgumentList.Add(typeof(RawPipe).Assembly.Location);
        }

        // The reader allocates its items as a worker does: workers keep arrays under 4 MiB off the large object heap
        // (InterpreterOptions.LargeObjectHeapThreshold), so the limit is measured the same way.
        if (Environment.GetEnvironmentVariable("DOTNET_GCLOHThreshold") is null)
        {
            start.Environment["DOTNET_GCLOHThreshold"] = "400000"; // Hexadecimal, as the runtime reads it: 4 MiB.
        }

        start.ArgumentList.Add("rawsink");
        start.ArgumentList.Add(endpoint.PipeName);
        using Process reader = Process.Start(start)!;
        await pipe.WaitForConnectionAsync();
        endpoint.DeleteSocketFile();

        byte[] item = new byte[4 + size];
        BinaryPrimitives.WriteInt32BigEndian(item, size);
        byte[] header = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(header, count);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), size);
        await pipe.WriteAsync(header);
        await pipe.ReadExactlyAsync(new byte[1]); // The reader is ready.

        var clock = Stopwatch.StartNew();
        using (var buffered = new BufferedStream(pipe, 64 * 1024))
        {
            for (int i = 0; i < count; i++)
            {
                await buffered.WriteAsync(item);
            }

            await buffered.FlushAsync();
            await pipe.ReadExactlyAsync(new byte[1]); // All read.
        }

        TimeSpan elapsed = clock.Elapsed;
        await reader.WaitForExitAsync();
        return elapsed;
    }

    /// <summary>The reading process.</summary>
    public static async Task SinkAsync(string pipeName)
    {
        await using var pipe = new NamedPipeClientStream(".", pipeName, PipeDirection.InOut, PipeOptions.Asynchronous | PipeOptions.CurrentUserOnly);
        await pipe.ConnectAsync();
        byte[] header = new byte[8];
        await pipe.ReadExactlyAsync(header);
        int count = BinaryPrimitives.ReadInt32BigEndian(header);
        int size = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4));
        await pipe.WriteAsync(new byte[] { 1 });
        using var buffered = new BufferedStream(pipe, 64 * 1024);
        byte[] length = new byte[4];
        for (int i = 0; i < count; i++)
        {
            await buffered.ReadExactlyAsync(length);
            byte[] item = new byte[BinaryPrimitives.ReadInt32BigEndian(length)]; // A new array per item, as a channel reader gets.
            await buffered.ReadExactlyAsync(item);
        }

        await pipe.WriteAsync(new byte[] { 1 });
        _ = size;
    }
}
