using System.Buffers;
using System.IO.Pipelines;
using ProcIsolates.Protocol.Channels;

namespace ProcIsolates.Channels;

/// <summary>Reads channel frames from one side of a channel-data stream until it ends.</summary>
internal static class FrameInput
{
    /// <summary>
    /// Hands every frame to <paramref name="handle"/> in order, and calls <paramref name="batchEnd"/> after each run of
    /// frames that arrived together; returns when the stream ends.
    /// </summary>
    /// <exception cref="ChannelProtocolException">The peer sent something that is not a valid frame.</exception>
    public static async Task ReadAllAsync(PipeReader reader, Action<ChannelFrame> handle, Action? batchEnd = null)
    {
        while (true)
        {
            ReadResult result = await reader.ReadAsync().ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            try
            {
                while (ChannelFrame.TryRead(ref buffer, out ChannelFrame? frame))
                {
                    handle(frame!);
                }

                batchEnd?.Invoke();
            }
            finally
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                return; // A partial frame at the end is a write that never finished: it is dropped whole.
            }
        }
    }
}
