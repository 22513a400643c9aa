using System.Diagnostics;
using System.Reflection;
using System.Threading.Channels;
using ProcIsolates.Channels;
using ProcIsolates.Channels.Spill;

namespace ProcIsolates.Tests.Hostile;

/// <summary>Attacks that run inside a worker, as untrusted code would: they reach the worker's internals by reflection.</summary>
public static class HostileJobs
{
    /// <summary>Writes bytes straight onto the worker's calls connection, behind its JSON-RPC's back.</summary>
    public static void WriteOnCallsConnection(byte[] bytes, bool thenClose)
    {
        var calls = (Stream)WorkerContext("CallsConnection")!;
        calls.Write(bytes);
        calls.Flush();
        if (thenClose)
        {
            calls.Dispose();
        }

        Thread.Sleep(30_000); // The host must not wait for this.
    }

    /// <summary>
    /// Sends a channel item that names a spill file the worker made a FIFO: opening a FIFO for reading waits for a
    /// writer, which never comes.
    /// </summary>
    public static bool SendFifoReference(ChannelWriter<byte[]> writer, long number)
    {
        string directory = (string)WorkerContext("SpillDirectory")!;
        string tag = (string)WorkerContext("SpillTag")!;
        var spilled = new SpilledItem(tag, number, 0x1234_5678, 300_000);
        using (var mkfifo = Process.Start("mkfifo", Path.Combine(directory, spilled.FileName)))
        {
            mkfifo.WaitForExit();
            if (mkfifo.ExitCode != 0)
            {
                throw new InvalidOperationException("mkfifo failed");
            }
        }

        return CoreOf(writer).TryWrite(spilled.ToBytes());
    }

    /// <summary>
    /// Stops reading its channel stream, asks for the channel's items and gives them back, again and again, then stops
    /// (SIGSTOP) so that it reads nothing at all: each small request is answered with megabytes the host cannot send.
    /// </summary>
    public static async Task<int> DemandWithoutReading(ChannelReader<byte[]> reader, long channel, int items, int rounds)
    {
        _ = reader.CanCount; // The reader end is attached: the broker serves this worker's demands.
        var pipe = (System.IO.Pipelines.IDuplexPipe)WorkerContext("ChannelData")!;
        await pipe.Input.CompleteAsync();
        for (int i = 0; i < rounds; i++)
        {
            new ProcIsolates.Protocol.Channels.ChannelFrame { Op = ProcIsolates.Protocol.Channels.ChannelOp.Demand, Channel = channel, A = items, B = 1_000_000 + i }.WriteTo(pipe.Output);
            new ProcIsolates.Protocol.Channels.ChannelFrame { Op = ProcIsolates.Protocol.Channels.ChannelOp.ReturnUnread, Channel = channel, A = items }.WriteTo(pipe.Output);
            if (i % 16 == 0)
            {
                await pipe.Output.FlushAsync();
            }
        }

        await pipe.Output.FlushAsync();

        // Then it stops reading at all: a stopped process reads nothing, so the host's answers can only pile up.
        await Task.Delay(200);
        using (Process.Start("kill", ["-STOP", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
        }

        Thread.Sleep(30_000);
        return rounds;
    }

    /// <summary>Writes <paramref name="count"/> items of <paramref name="size"/> bytes, then waits to be stopped.</summary>
    /// <summary>Writes <paramref name="count"/> zeroed items of <paramref name="size"/> bytes and returns (a well-behaved writer).</summary>
    public static async Task<int> WriteItems(ChannelWriter<byte[]> writer, int count, int size)
    {
        for (int i = 0; i < count; i++)
        {
            await writer.WriteAsync(new byte[size]);
        }

        return count;
    }

    public static async Task<int> Fill(ChannelWriter<byte[]> writer, int count, int size)
    {
        for (int i = 0; i < count; i++)
        {
            await writer.WriteAsync(new byte[size]);
        }

        Thread.Sleep(30_000); // Over the budget, the host kills this worker before it gets here.
        return count;
    }

    /// <summary>The descriptors this process has open, each with what it points to.</summary>
    public static string[] OpenDescriptors() =>
        Directory.GetFiles("/proc/self/fd").Select(fd =>
        {
            try
            {
                return Path.GetFileName(fd) + " " + (new FileInfo(fd).LinkTarget ?? string.Empty);
            }
            catch (IOException)
            {
                return Path.GetFileName(fd);
            }
        }).ToArray();

    /// <summary>Writes <paramref name="mebibytes"/> MiB to the worker's standard error, straight to the descriptor.</summary>
    /// <param name="mebibytes">How much.</param>
    /// <param name="lineLength">Bytes per line, newline included; 0 for no newline at all.</param>
    public static int FloodStderr(int mebibytes, int lineLength)
    {
        byte[] chunk = new byte[1024 * 1024];
        Array.Fill(chunk, (byte)'x');
        if (lineLength > 0)
        {
            for (int i = lineLength - 1; i < chunk.Length; i += lineLength)
            {
                chunk[i] = (byte)'\n';
            }
        }

        using Stream stderr = Console.OpenStandardError();
        for (int i = 0; i < mebibytes; i++)
        {
            stderr.Write(chunk);
        }

        stderr.Flush();
        return mebibytes;
    }

    private static IChannelCore CoreOf<T>(ChannelWriter<T> writer) =>
        (IChannelCore)writer.GetType().GetFields(BindingFlags.NonPublic | BindingFlags.Instance).Single(f => f.FieldType == typeof(IChannelCore)).GetValue(writer)!;

    /// <summary>Asks the host for interpreter ids as fast as it can, <paramref name="concurrent"/> requests at a time.</summary>
    public static async Task<long[]> ReserveIdsInALoop(int count, int concurrent)
    {
        var reserve = (Func<CancellationToken, Task<long>>)WorkerContext("ReserveInterpreterId")!;
        var ids = new List<long>(count);
        for (int done = 0; done < count; done += concurrent)
        {
            ids.AddRange(await Task.WhenAll(Enumerable.Range(0, Math.Min(concurrent, count - done)).Select(_ => reserve(CancellationToken.None))));
        }

        return [.. ids];
    }

    private static object? WorkerContext(string property) =>
        Type.GetType("ProcIsolates.Worker.WorkerContext, ProcIsolates.Worker", throwOnError: true)!.GetProperty(property)!.GetValue(null);
}
