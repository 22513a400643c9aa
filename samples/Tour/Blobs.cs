using System.Threading.Channels;

namespace ProcIsolates.Tour;

/// <summary>Large channel items for the tour: each goes through a spill file instead of through the host.</summary>
public static class Blobs
{
    /// <summary>Writes <paramref name="count"/> random items of <paramref name="size"/> bytes, then completes the channel.</summary>
    public static async Task Produce(ChannelWriter<byte[]> output, int count, int size)
    {
        for (int i = 0; i < count; i++)
        {
            byte[] blob = new byte[size];
            Random.Shared.NextBytes(blob);
            await output.WriteAsync(blob);
        }

        output.Complete();
    }
}
