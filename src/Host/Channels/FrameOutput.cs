using System.IO.Pipelines;
using ProcIsolates.Protocol.Channels;

namespace ProcIsolates.Channels;

/// <summary>
/// Writes channel frames to one side of a channel-data stream from any thread without blocking. Frames written while
/// a flush is under way go out together with the next one, so a burst of small items costs few writes on the pipe.
/// </summary>
internal sealed class FrameOutput
{
    private readonly PipeWriter writer;
    private readonly Lock gate = new();
    private bool dirty;
    private bool flushing;
    private bool broken;
    private long sent;

    public FrameOutput(PipeWriter writer) => this.writer = writer;

    /// <summary>How many frames have been queued so far (dropped ones included: the reader stops counting with the stream).</summary>
    public long SentFrames => Interlocked.Read(ref sent);

    /// <summary>Queues a frame; it is flushed shortly on a pool thread.</summary>
    public void Send(ChannelFrame frame)
    {
        lock (gate)
        {
            Interlocked.Increment(ref sent);
            if (broken)
            {
                return;
            }

            try
            {
                frame.WriteTo(writer);
            }
            catch (InvalidOperationException)
            {
                broken = true; // The stream was completed under us: the worker is gone.
                return;
            }

            dirty = true;
            if (!flushing)
            {
                flushing = true;
                ThreadPool.UnsafeQueueUserWorkItem(static self => _ = self.FlushLoopAsync(), this, preferLocal: false);
            }
        }
    }

    /// <summary>Stops sending; later frames are dropped.</summary>
    public void Break()
    {
        lock (gate)
        {
            broken = true;
        }
    }

    private async Task FlushLoopAsync()
    {
        try
        {
            while (true)
            {
                ValueTask<FlushResult> flush;
                lock (gate)
                {
                    if (!dirty || broken)
                    {
                        flushing = false;
                        return;
                    }

                    dirty = false;
                    flush = writer.FlushAsync();
                }

                FlushResult result = await flush.ConfigureAwait(false);
                if (result.IsCompleted || result.IsCanceled)
                {
                    Break();
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The other side is gone: whoever reads this stream notices and cleans up.
            lock (gate)
            {
                broken = true;
                flushing = false;
            }
        }
    }
}
