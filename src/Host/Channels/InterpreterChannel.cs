using System.Threading.Channels;
using ProcIsolates.Channels;
using ProcIsolates.Protocol.Channels;

namespace ProcIsolates;

/// <summary>
/// A channel between interpreters, brokered by the host: a <see cref="Channel{T}"/> whose items are MessagePack
/// serialized by the writer and recreated by the reader, in any interpreter. Pass <see cref="Channel{TWrite, TRead}.Reader"/>
/// or <see cref="Channel{TWrite, TRead}.Writer"/> (or the whole channel, a queue) to an interpreter as a call argument,
/// an exec variable or a channel item; it arrives as the same channel. Create one with
/// <see cref="Interpreters.CreateChannel{T}(int?)"/>.
/// </summary>
/// <typeparam name="T">The item type; it must be shareable (see <see cref="NotShareableException"/>).</typeparam>
public sealed class InterpreterChannel<T> : Channel<T>, IInterpreterChannelEnd
{
    private readonly IChannelCore core;

    internal InterpreterChannel(IChannelCore core)
    {
        this.core = core;
        Reader = new InterpreterChannelReader<T>(core);
        Writer = new InterpreterChannelWriter<T>(core);
    }

    /// <summary>The channel's id in the host's broker; the same in every interpreter.</summary>
    public long Id => core.Handle.Id;

    /// <summary>The bound: <see langword="null"/> for an unbounded channel, 0 for a rendezvous channel.</summary>
    public int? Capacity => core.Handle.Capacity == ChannelHandle.Unbounded ? null : core.Handle.Capacity;

    /// <summary>How many items wait in the channel (in a worker: in the broker and fetched by this process, not yet read).</summary>
    public int Count => core.Count;

    ChannelHandle IInterpreterChannelEnd.Handle => core.Handle;

    /// <inheritdoc/>
    public override string ToString() =>
        $"InterpreterChannel<{typeof(T).Name}>(Id={Id:x}, {(Capacity switch { null => "unbounded", 0 => "rendezvous", { } bound => $"capacity={bound}" })})";
}
