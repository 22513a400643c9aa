using System.IO.Pipelines;
using System.Threading.Channels;
using ProcIsolates.Protocol.Channels;

namespace ProcIsolates.Tests.Hostile;

/// <summary>Worker code that leaves channels behind, or holds items in the host without acknowledging them.</summary>
public static class ChannelLeakJobs
{
    /// <summary>
    /// Creates a channel of its own and fills it (<paramref name="spilled"/> items of 1 MiB, which go to spill files, and
    /// <paramref name="small"/> of <paramref name="smallSize"/> bytes), then returns only its id: no handle leaves.
    /// </summary>
    public static async Task<long> FillOwnChannel(int spilled, int small, int smallSize)
    {
        InterpreterChannel<byte[]> own = Interpreters.CreateChannel<byte[]>();
        for (int i = 0; i < spilled; i++)
        {
            await own.Writer.WriteAsync(new byte[1 << 20]);
        }

        for (int i = 0; i < small; i++)
        {
            await own.Writer.WriteAsync(new byte[smallSize]);
        }

        Kept.Add(own); // Alive in this worker, as a leaky plugin would keep it.
        return own.Id;
    }

    /// <summary>Creates a channel, writes 1..<paramref name="count"/> to it and returns it (its handle goes to the host).</summary>
    public static async Task<InterpreterChannel<int>> FillAndReturn(int count)
    {
        InterpreterChannel<int> own = Interpreters.CreateChannel<int>();
        for (int i = 1; i <= count; i++)
        {
            await own.Writer.WriteAsync(i);
        }

        return own;
    }

    /// <summary>Creates a channel, writes 1..<paramref name="count"/> to it and sends its reader end through <paramref name="via"/>.</summary>
    public static async Task<long> FillAndSendReader(ChannelWriter<ChannelReader<int>> via, int count)
    {
        InterpreterChannel<int> own = Interpreters.CreateChannel<int>();
        for (int i = 1; i <= count; i++)
        {
            await own.Writer.WriteAsync(i);
        }

        await via.WriteAsync(own.Reader);
        return own.Id;
    }

    /// <summary>
    /// Writes items to a channel of its own and asks the broker for each at once, never acknowledging one: the items
    /// leave the queue (where they count against this worker) for "in flight" (where they counted against no one).
    /// Its channel client goes on reading what the host sends, so the host's unsent-data budget is not what stops it.
    /// </summary>
    public static async Task<int> WriteAndHoardInFlight(int rounds, int size)
    {
        InterpreterChannel<byte[]> own = Interpreters.CreateChannel<byte[]>();
        _ = own.Reader.CanCount; // A reader end here: the client buffers what is delivered and never reads it.
        var pipe = (IDuplexPipe)ProcIsolates.Worker.WorkerContext.ChannelData!;
        byte[] item = new byte[size];
        for (int i = 0; i < rounds; i++)
        {
            new ChannelFrame { Op = ChannelOp.Write, Channel = own.Id, Item = item }.WriteTo(pipe.Output);
            new ChannelFrame { Op = ChannelOp.Demand, Channel = own.Id, A = 1, B = 1_000_000 + i }.WriteTo(pipe.Output);
            if (i % 16 == 0)
            {
                await pipe.Output.FlushAsync();
            }
        }

        await pipe.Output.FlushAsync();
        Thread.Sleep(30_000); // Over the budget, the host kills this worker before it gets here.
        return rounds;
    }

    /// <summary>Offers items to a rendezvous channel as raw write frames, each waiting for a reader that never comes.</summary>
    public static async Task<int> OfferWithoutReader(ChannelWriter<byte[]> writer, long channel, int rounds, int size)
    {
        _ = writer.TryWrite([]); // Attaches this worker's end (and, with no reader, writes nothing).
        var pipe = (IDuplexPipe)ProcIsolates.Worker.WorkerContext.ChannelData!;
        byte[] item = new byte[size];
        for (int i = 0; i < rounds; i++)
        {
            new ChannelFrame { Op = ChannelOp.Write, Channel = channel, A = 1_000_000 + i, Item = item }.WriteTo(pipe.Output);
            if (i % 16 == 0)
            {
                await pipe.Output.FlushAsync();
            }
        }

        await pipe.Output.FlushAsync();
        Thread.Sleep(30_000); // Over the budget, the host kills this worker before it gets here.
        return rounds;
    }

    private static readonly List<object> Kept = [];
}
