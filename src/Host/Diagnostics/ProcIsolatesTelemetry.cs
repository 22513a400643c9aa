using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ProcIsolates.Diagnostics;

/// <summary>
/// The names under which ProcIsolates reports metrics (<see cref="Meter"/>) and traces (<see cref="ActivitySource"/>),
/// for OpenTelemetry's <c>AddMeter</c> and <c>AddSource</c>.
/// </summary>
public static class ProcIsolatesTelemetry
{
    /// <summary>The name of the meter and of the activity source: <c>ProcIsolates</c>.</summary>
    public const string Name = "ProcIsolates";

    internal static readonly ActivitySource Source = new(Name, typeof(ProcIsolatesTelemetry).Assembly.GetName().Version?.ToString());

    internal static readonly Meter Meter = new(Name, typeof(ProcIsolatesTelemetry).Assembly.GetName().Version?.ToString());

    internal static readonly Counter<long> Created = Meter.CreateCounter<long>(
        "procisolates.interpreters.created", "{interpreter}", "Interpreters created.");

    internal static readonly Counter<long> Crashes = Meter.CreateCounter<long>(
        "procisolates.interpreters.crashes", "{crash}", "Worker processes that died without being asked to, including those killed after a cancellation.");

    internal static readonly Counter<long> Operations = Meter.CreateCounter<long>(
        "procisolates.operations", "{operation}", "Execs and calls completed, by operation and outcome.");

    internal static readonly Histogram<double> Duration = Meter.CreateHistogram<double>(
        "procisolates.operation.duration", "s", "How long execs and calls took, as the caller saw it.");

    internal static readonly Counter<long> ChannelsCreated = Meter.CreateCounter<long>(
        "procisolates.channels.created", "{channel}", "Interpreter channels created.");

    internal static readonly Counter<long> ChannelsAbandoned = Meter.CreateCounter<long>(
        "procisolates.channels.abandoned", "{channel}", "Channels ended because the worker that created them died or closed and no live process could reach them.");

    internal static readonly Counter<long> ChannelItems = Meter.CreateCounter<long>(
        "procisolates.channel.items", "{item}", "Items that entered an interpreter channel's broker, from the host or a worker.");

    internal static void ObserveChannels(Func<int> live) =>
        Meter.CreateObservableUpDownCounter("procisolates.channels.live", live, "{channel}", "Interpreter channels not yet ended.");

    internal static void ObserveAlive(Func<int> alive) =>
        Meter.CreateObservableUpDownCounter("procisolates.interpreters.alive", alive, "{interpreter}", "Interpreters alive (the main interpreter not counted).");
}
