using System.Threading.Channels;
using ProcIsolates.Protocol.Channels;

namespace ProcIsolates.Channels;

/// <summary>The reading end of an <see cref="InterpreterChannel{T}"/>: recreates each item from its bytes.</summary>
internal sealed class InterpreterChannelReader<T>(IChannelCore core) : ChannelReader<T>, IInterpreterChannelEnd
{
    public ChannelHandle Handle => core.Handle.As(ChannelEndKind.Reader);

    public override Task Completion => core.Completion;

    public override bool CanCount => true;

    public override bool CanPeek => true;

    public override int Count => core.Count;

    public override bool TryRead(out T item)
    {
        if (core.TryRead(out byte[] bytes))
        {
            item = ChannelItems.Deserialize<T>(bytes, take: true, final: core.ReadsAreFinal);
            return true;
        }

        item = default!;
        return false;
    }

    public override bool TryPeek(out T item)
    {
        // In the host, another reader may take the peeked item, and delete its spill file, before it is read: the next
        // item is then the head.
        for (int attempt = 1; core.TryPeek(out byte[] bytes); attempt++)
        {
            try
            {
                item = ChannelItems.Deserialize<T>(bytes, take: false, final: false);
                return true;
            }
            catch (NotShareableException ex) when (core.ReadsAreFinal && ChannelItems.IsSpillFileGone(ex) && attempt < 3)
            {
            }
        }

        item = default!;
        return false;
    }

    public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) => core.WaitToReadAsync(cancellationToken);

    public override async ValueTask<T> ReadAsync(CancellationToken cancellationToken = default) =>
        ChannelItems.Deserialize<T>(await core.ReadAsync(cancellationToken).ConfigureAwait(false), take: true, final: core.ReadsAreFinal);

    public override string ToString() => $"ChannelReader<{typeof(T).Name}>(Id={core.Handle.Id:x})";
}
