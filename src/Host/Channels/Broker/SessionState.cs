namespace ProcIsolates.Channels.Broker;

/// <summary>What one worker holds of one channel: items delivered but not acknowledged, and write slots granted but not used.</summary>
internal sealed class SessionState(BrokerSession? holder = null)
{
    public InFlightItems InFlight { get; } = new(holder);

    public int Credits { get; set; }

    public int PendingOffers { get; set; }

    /// <summary>
    /// The channel was completed and the worker has not yet said it saw that (<c>CompletionSeen</c>): a write from it
    /// may have left before it knew, and is taken as written before the completion.
    /// </summary>
    public bool CompletionUnseen { get; set; }
}
