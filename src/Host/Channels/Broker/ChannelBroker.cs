using System.Collections.Concurrent;
using System.Security.Cryptography;
using ProcIsolates.Protocol.Channels;

namespace ProcIsolates.Channels.Broker;

/// <summary>The host's registry of live channels, by id. Ids are random, so a worker cannot guess one it was not given.</summary>
internal static class ChannelBroker
{
    /// <summary>How many ended channels are remembered, so that a handle arriving late still sees how its channel ended.</summary>
    private const int RememberedEnds = 100_000;

    private static readonly ConcurrentDictionary<long, BrokeredChannel> Channels = new();
    private static readonly ConcurrentDictionary<long, Exception?> Ended = new();
    private static readonly ConcurrentQueue<long> EndOrder = new();

    static ChannelBroker() => Diagnostics.ProcIsolatesTelemetry.ObserveChannels(() => Channels.Count);

    /// <summary>How many channels are live (not ended).</summary>
    public static int LiveCount => Channels.Count;

    /// <summary>Creates a channel.</summary>
    /// <param name="capacity"><see langword="null"/> for unbounded, 0 for rendezvous, else the bound.</param>
    /// <param name="creator">The worker that asked for it, or <see langword="null"/> for the host (whose channels are never freed unread).</param>
    public static BrokeredChannel Create(int? capacity, BrokerSession? creator = null)
    {
        if (capacity is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "A channel's capacity is 0 (rendezvous) or more, or null for unbounded.");
        }

        while (true)
        {
            long id = BitConverter.ToInt64(RandomNumberGenerator.GetBytes(8)) & long.MaxValue;
            if (id == 0)
            {
                continue;
            }

            var channel = new BrokeredChannel(new ChannelHandle(id, capacity ?? ChannelHandle.Unbounded, ChannelEndKind.Channel), OnEnded, creator);
            if (Channels.TryAdd(id, channel))
            {
                Diagnostics.ProcIsolatesTelemetry.ChannelsCreated.Add(1);
                return channel;
            }
        }
    }

    /// <summary>The channel a handle stands for, as an end in the host (so never freed unread); one that has ended (or never existed) is an ended channel.</summary>
    public static BrokeredChannel Find(ChannelHandle handle)
    {
        if (!Channels.TryGetValue(handle.Id, out BrokeredChannel? channel))
        {
            return Tombstone(handle.Id, handle.Capacity);
        }

        channel.MarkShared();
        return channel;
    }

    /// <summary>The live channel with this id, or <see langword="null"/>.</summary>
    public static BrokeredChannel? TryFind(long id) => Channels.TryGetValue(id, out BrokeredChannel? channel) ? channel : null;

    /// <summary>An ended stand-in for a channel that is no longer live: with the error it ended with, if it is remembered.</summary>
    public static BrokeredChannel Tombstone(long id, int capacity) =>
        BrokeredChannel.AlreadyEnded(new ChannelHandle(id, capacity, ChannelEndKind.Channel), Ended.TryGetValue(id, out Exception? error) ? error : null);

    private static void OnEnded(BrokeredChannel channel, Exception? error)
    {
        long id = channel.Handle.Id;
        Ended[id] = error;
        EndOrder.Enqueue(id);
        Channels.TryRemove(id, out _);
        while (EndOrder.Count > RememberedEnds && EndOrder.TryDequeue(out long oldest))
        {
            Ended.TryRemove(oldest, out _);
        }
    }
}
