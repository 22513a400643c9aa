using System.Collections.Concurrent;
using ProcIsolates.Channels.Broker;

namespace ProcIsolates;

/// <summary>
/// The host-wide bound on bytes of items that live workers wrote and that wait in channel queues
/// (<see cref="Interpreters.MaxQueuedChannelBytes"/>): many workers each under their own
/// <see cref="WorkerBudgets.MaxQueuedBytes"/> could still fill the host together. Over it, the live worker holding the
/// most is cut off, as over its own budget; what it wrote stays for the readers and no longer counts here.
/// </summary>
internal static class HostQueueBudget
{
    private static readonly ConcurrentDictionary<BrokerSession, byte> Live = new();
    private static long liveQueued;
    private static int cutting;
    private static long limit = DefaultLimit();

    /// <summary>The bound, in bytes.</summary>
    public static long Limit
    {
        get => Interlocked.Read(ref limit);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 64L << 20);
            Interlocked.Exchange(ref limit, value);
        }
    }

    /// <summary>Bytes queued by live workers' writes now.</summary>
    public static long LiveQueued => Interlocked.Read(ref liveQueued);

    public static void Join(BrokerSession session) => Live[session] = 0;

    /// <summary>A session closed: its queued bytes stop counting (its items stay in their channels).</summary>
    public static void Leave(BrokerSession session, long queuedNow)
    {
        if (Live.TryRemove(session, out _))
        {
            Interlocked.Add(ref liveQueued, -queuedNow);
        }
    }

    /// <summary>Counts a live session's bytes into (or, negative, out of) channel queues; over the bound, cuts off the largest holder.</summary>
    public static void Charge(BrokerSession session, long bytes, Action<BrokerSession, string> cutOff)
    {
        if (!Live.ContainsKey(session))
        {
            return;
        }

        long now = Interlocked.Add(ref liveQueued, bytes);
        long bound = Limit;
        if (bytes <= 0 || now <= bound || Interlocked.Exchange(ref cutting, 1) == 1)
        {
            return;
        }

        // On a pool thread: this runs under a channel's lock.
        ThreadPool.QueueUserWorkItem(_ =>
        {
            try
            {
                BrokerSession? largest = Live.Keys.MaxBy(s => s.QueuedBytes);
                if (largest is not null && LiveQueued > Limit)
                {
                    cutOff(largest, $"The workers' items waiting in channels reached {LiveQueued} bytes, more than Interpreters.MaxQueuedChannelBytes ({Limit}); this worker's were the most ({largest.QueuedBytes}).");
                }
            }
            finally
            {
                Volatile.Write(ref cutting, 0);
            }
        });
    }

    private static long DefaultLimit() => Math.Max(2L << 30, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2);
}
