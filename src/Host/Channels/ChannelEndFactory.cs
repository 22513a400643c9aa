using System.Reflection;
using System.Runtime.CompilerServices;
using ProcIsolates.Channels.Broker;
using ProcIsolates.Channels.Remote;
using ProcIsolates.Protocol.Channels;
using ProcIsolates.Worker;

namespace ProcIsolates.Channels;

/// <summary>Makes channel ends out of handles: over the broker in the host, over the channel client in a worker.</summary>
internal static class ChannelEndFactory
{
#pragma warning disable CA2255 // Installed when the library loads, so that any deserialization in this process can make ends.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Install()
    {
        ChannelEnds.Materializer = Materialize;
        ChannelEnds.Exporting = Export;
    }

    /// <summary>Creates a new channel: in the host's broker, or from a worker through it.</summary>
    public static InterpreterChannel<T> Create<T>(int? capacity)
    {
        if (capacity is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "A channel's capacity is 0 (rendezvous) or more, or null for unbounded.");
        }

        IChannelCore core = WorkerContext.IsWorker ? ChannelClient.Instance.Create(capacity) : ChannelBroker.Create(capacity);
        return new InterpreterChannel<T>(core);
    }

    /// <summary>
    /// A handle leaves this process: in a worker the broker is told first, since a channel that only its (dead) creator
    /// could reach is freed. The host's own channels, and those it materialized, are never freed that way.
    /// </summary>
    private static void Export(ChannelHandle handle)
    {
        if (WorkerContext.IsWorker)
        {
            ChannelClient.Instance.Export(handle.Id);
        }
    }

    private static object Materialize(ChannelHandle handle, Type requested)
    {
        IChannelCore core = WorkerContext.IsWorker ? ChannelClient.Instance.GetCore(handle) : ChannelBroker.Find(handle);
        Type itemType = ChannelEnds.ItemType(requested);
        object channel = Activator.CreateInstance(
            typeof(InterpreterChannel<>).MakeGenericType(itemType), BindingFlags.Instance | BindingFlags.NonPublic, binder: null, [core], culture: null)!;
        return handle.Kind switch
        {
            ChannelEndKind.Reader => channel.GetType().GetProperty("Reader")!.GetValue(channel)!,
            ChannelEndKind.Writer => channel.GetType().GetProperty("Writer")!.GetValue(channel)!,
            _ => channel,
        };
    }
}
