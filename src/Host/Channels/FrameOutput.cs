using System.Buffers;
using System.IO.Pipelines;
using Nerdbank.Streams;
using ProcIsolates.Protocol.Channels;

namespace ProcIsolates.Channels;

/// <summary>
/// Writes channel frames to one side of a channel-data stream from any thread without blocking. Frames are gathered
/// in a buffer of their own while a write is under way and go out together with the next one, so a burst of small
/// items costs few writes on the pipe; only the flush loop touches the pipe (a stream's pipe writer must not be
/// written while it flushes). <see cref="WhenWrittenAsync"/> tells when a frame has been handed to the connection.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA2213:Disposable fields should be disposed", Justification = "See CA1001.")]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "The buffers go back to the pool as each write ends (Reset); those of an output that broke are left to the GC.")]
internal sealed class FrameOutput
{
    private readonly PipeWriter writer;
    private readonly CountingWriter counted;
    private readonly Lock gate = new();
    private readonly List<(long Frame, TaskCompletionSource Written)> writtenWaiters = [];
    private Sequence<byte> gathering = new(ArrayPool<byte>.Shared);
    private Sequence<byte> writing = new(ArrayPool<byte>.Shared);
    private long written;
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
    /// <returns>The frame's number, for <see cref="WhenWrittenAsync"/>.</returns>
    public long Send(ChannelFrame frame) => Enqueue(frame, writeHere: false, out _);

    /// <summary>Starts writing on this thread what <see cref="Enqueue"/> left for it (its <c>startHere</c> was true).</summary>
    public void WriteHere() => _ = FlushLoopAsync(onCallersThread: true);

    /// <summary>
    /// Queues a frame. With <paramref name="writeHere"/>, when no write is under way the caller is to start one on its
    /// own thread (<paramref name="startHere"/>; through <see cref="WriteHere"/>, once it holds no lock): a socket
    /// usually takes the bytes at once, so an awaited channel write then completes without a thread hop.
    /// </summary>
    /// <returns>The frame's number, for <see cref="WhenWrittenAsync"/>.</returns>
    public long Enqueue(ChannelFrame frame, bool writeHere, out bool startHere)
    {
        startHere = false;
        lock (gate)
        {
            long number = Interlocked.Increment(ref sent);
            if (broken)
            {
                return number;
            }

            try
            {
                frame.WriteTo(counted);
            }
            catch (InvalidOperationException)
            {
                broken = true; // The stream was completed under us: the worker is gone.
                FailWaitersLocked();
                return number;
            }

            dirty = true;
            if (unsentBytes > maxUnsentBytes && onOverflow is { } overflow)
            {
                // Later frames are dropped; the session owner kills the worker (not under this lock, nor the caller's).
                broken = true;
                long unsent = unsentBytes;
                ThreadPool.QueueUserWorkItem(static state => state.overflow(state.unsent), (overflow, unsent), preferLocal: false);
                FailWaitersLocked();
                return number;
            }

            if (!flushing)
            {
                flushing = true;
                if (writeHere)
                {
                    startHere = true; // Once the lock is released.
                }
                else
                {
                    ThreadPool.UnsafeQueueUserWorkItem(static self => _ = self.FlushLoopAsync(onCallersThread: false), this, preferLocal: false);
                }
            }

            return number;
        }
    }

    /// <summary>
    /// Completes when frame <paramref name="frame"/> and all before it have been written to the connection (for a
    /// socket: the kernel has them, and the peer reads them even if this process dies next); fails with
    /// <see cref="IOException"/> if the output broke before that.
    /// </summary>
    public Task WhenWrittenAsync(long frame)
    {
        lock (gate)
        {
            if (written >= frame)
            {
                return Task.CompletedTask;
            }

            if (broken)
            {
                return Task.FromException(new IOException("The channel-data connection broke before the frame was written."));
            }

            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            writtenWaiters.Add((frame, waiter));
            return waiter.Task;
        }
    }

    /// <summary>Stops sending; later frames are dropped.</summary>
    public void Break()
    {
        lock (gate)
        {
            broken = true;
            FailWaitersLocked();
        }
    }

    private void FailWaitersLocked()
    {
        foreach ((_, TaskCompletionSource waiter) in writtenWaiters)
        {
            waiter.TrySetException(new IOException("The channel-data connection broke before the frame was written."));
        }

        writtenWaiters.Clear();
    }

    /// <summary>
    /// Writes what was gathered until nothing is left. <paramref name="onCallersThread"/>: one batch here, then the
    /// rest on a pool thread, so that a writer whose socket takes every write at once is not kept writing others' frames.
    /// </summary>
    private async Task FlushLoopAsync(bool onCallersThread)
    {
        try
        {
            for (int batch = 0; ; batch++)
            {
                long upTo;
                lock (gate)
                {
                    if (!dirty || broken)
                    {
                        flushing = false;
                        if (broken)
                        {
                            FailWaitersLocked();
                        }

                        return;
                    }

                    if (onCallersThread && batch > 0)
                    {
                        // Still flushing: the pool thread takes over the loop.
                        ThreadPool.UnsafeQueueUserWorkItem(static self => _ = self.FlushLoopAsync(onCallersThread: false), this, preferLocal: false);
                        return;
                    }

                    dirty = false;
                    unsentBytes = 0; // What is written while this write waits for the peer counts towards the bound.
                    (gathering, writing) = (writing, gathering);
                    upTo = sent;
                }

                foreach (ReadOnlyMemory<byte> segment in writing.AsReadOnlySequence)
                {
                    FlushResult result = await writer.WriteAsync(segment).ConfigureAwait(false);
                    if (result.IsCompleted || result.IsCanceled)
                    {
                        Break();
                        return;
                    }
                }

                writing.Reset();
                lock (gate)
                {
                    written = upTo;
                    writtenWaiters.RemoveAll(w =>
                    {
                        if (w.Frame > upTo)
                        {
                            return false;
                        }

                        w.Written.TrySetResult();
                        return true;
                    });
                }
            }
        }
#pragma warning disable CA1031 // Any failure ends the output: a frame that cannot be written must not leave its writer waiting.
        catch (Exception)
#pragma warning restore CA1031
        {
            // The other side is gone (or the pipe failed): whoever reads this stream notices and cleans up.
            lock (gate)
            {
                broken = true;
                flushing = false;
                FailWaitersLocked();
            }
        }
    }

    /// <summary>Counts the bytes frames are written as (the channel's writer cannot tell its unflushed bytes).</summary>
    private sealed class CountingWriter(FrameOutput owner) : IBufferWriter<byte>
    {
        public void Advance(int count)
        {
            owner.unsentBytes += count; // Under the owner's lock: frames are written in Send only.
            owner.gathering.Advance(count);
        }

        public Memory<byte> GetMemory(int sizeHint = 0) => owner.gathering.GetMemory(sizeHint);

        public Span<byte> GetSpan(int sizeHint = 0) => owner.gathering.GetSpan(sizeHint);
    }
}
