namespace ProcIsolates.Channels.Broker;

/// <summary>A worker waiting for write slots; <see cref="Request"/> is its number for the request, echoed in the grant.</summary>
internal sealed record CreditRequest(BrokerSession Session, int Wanted, long Request);
