using System.Threading.Channels;
using ProcIsolates.Protocol.Channels;

namespace ProcIsolates.Channels;

/// <summary>The writing end of an <see cref="InterpreterChannel{T}"/>: serializes each item before it leaves.</summary>
internal sealed class InterpreterChannelWriter<T>(IChannelCore core) : ChannelWriter<T>, IInterpreterChannelEnd
{
    public ChannelHandle Handle => core.Handle.As(ChannelEndKind.Writer);

    public override bool TryWrite(T item) => core.TryWrite(ChannelItems.Serialize(item));

    public override ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken = default) => core.WaitToWriteAsync(cancellationToken);

    public override ValueTask WriteAsync(T item, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        return core.WriteAsync(ChannelItems.Serialize(item), cancellationToken);
    }

    public override bool TryComplete(Exception? error = null) => core.TryComplete(error);

    public override string ToString() => $"ChannelWriter<{typeof(T).Name}>(Id={core.Handle.Id:x})";
}
