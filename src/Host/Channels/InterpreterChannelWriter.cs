using System.Threading.Channels;
using ProcIsolates.Protocol.Channels;

namespace ProcIsolates.Channels;

/// <summary>The writing end of an <see cref="InterpreterChannel{T}"/>: serializes each item before it leaves.</summary>
internal sealed class InterpreterChannelWriter<T>(IChannelCore core) : ChannelWriter<T>, IInterpreterChannelEnd
{
    public ChannelHandle Handle => core.Handle.As(ChannelEndKind.Writer);

    public override bool TryWrite(T item)
    {
        if (!core.MayAcceptWrite())
        {
            return false; // Refused before serializing: a writer looping on TryWrite would pay for it at every refusal.
        }

        byte[] bytes = ChannelItems.Serialize(item);
        if (core.TryWrite(bytes))
        {
            return true;
        }

        ChannelItems.Discard(bytes);
        return false;
    }

    public override ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken = default) => core.WaitToWriteAsync(cancellationToken);

    public override ValueTask WriteAsync(T item, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        byte[] bytes = ChannelItems.Serialize(item);
        ValueTask write = core.WriteAsync(bytes, cancellationToken);
        return write.IsCompletedSuccessfully ? write : DiscardIfFailedAsync(write, bytes);
    }

    // A write that throws wrote nothing (as with .NET's channels), so a spilled item's file is not needed.
    private static async ValueTask DiscardIfFailedAsync(ValueTask write, byte[] bytes)
    {
        try
        {
            await write.ConfigureAwait(false);
        }
        catch
        {
            ChannelItems.Discard(bytes);
            throw;
        }
    }

    public override bool TryComplete(Exception? error = null) => core.TryComplete(error);

    public override string ToString() => $"ChannelWriter<{typeof(T).Name}>(Id={core.Handle.Id:x})";
}
