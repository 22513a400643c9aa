using System.Buffers;
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
    private readonly CountingWriter counted;
    private readonly Lock gate = new();
    private bool dirty;
    private bool flushing;
    private bool broken;
    private long sent;
    private long maxUnsentBytes = long.MaxValue;
    private long unsentBytes;
    private Action<long>? onOverflow;

    public FrameOutput(PipeWriter writer)
    {
        this.writer = writer;
        counted = new CountingWriter(this);
    }

    /// <summary>
    /// Bounds what may wait unsent (written, not yet flushed: a flush waits while the peer does not read). Beyond it
    /// the output breaks and <paramref name="overflow"/> is told, on a pool thread, how many bytes were waiting.
    /// </summary>
    public void Bound(long maxUnsent, Action<long> overflow)
    {
        lock (gate)
        {
            maxUnsentBytes = maxUnsent;
            onOverflow = overflow;
        }
    }

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
                frame.WriteTo(counted);
            }
            catch (InvalidOperationException)
            {
                broken = true; // The stream was completed under us: the worker is gone.
                return;
            }

            dirty = true;
            if (unsentBytes > maxUnsentBytes && onOverflow is { } overflow)
            {
                // Later frames are dropped; the session owner kills the worker (not under this lock, nor the caller's).
                broken = true;
                long unsent = unsentBytes;
                ThreadPool.QueueUserWorkItem(static state => state.overflow(state.unsent), (overflow, unsent), preferLocal: false);
                return;
            }

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
                    unsentBytes = 0; // What is written while this flush waits for the peer counts towards the bound.
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

    /// <summary>Counts the bytes frames are written as (the channel's writer cannot tell its unflushed bytes).</summary>
    private sealed class CountingWriter(FrameOutput owner) : IBufferWriter<byte>
    {
        public void Advance(int count)
        {
            owner.unsentBytes += count; // Under the owner's lock: frames are written in Send only.
            owner.writer.Advance(count);
        }

        public Memory<byte> GetMemory(int sizeHint = 0) => owner.writer.GetMemory(sizeHint);

        public Span<byte> GetSpan(int sizeHint = 0) => owner.writer.GetSpan(sizeHint);
    }
}
