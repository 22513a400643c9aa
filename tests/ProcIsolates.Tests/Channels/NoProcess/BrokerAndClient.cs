using System.IO.Pipelines;
using Nerdbank.Streams;
using ProcIsolates.Channels;
using ProcIsolates.Channels.Broker;
using ProcIsolates.Channels.Remote;

namespace ProcIsolates.Tests.Channels.NoProcess;

/// <summary>
/// A broker session and a channel client joined by an in-memory pipe pair: the two state machines of the channel
/// protocol, without a worker process. The client side stands for a worker.
/// </summary>
internal sealed class BrokerAndClient
{
    private readonly List<string> violations = [];

    public BrokerAndClient()
    {
        (IDuplexPipe brokerSide, IDuplexPipe clientSide) = FullDuplexStream.CreatePipePair();
        ClientPipe = clientSide;
        Session = new BrokerSession(brokerSide, reason =>
        {
            lock (violations)
            {
                violations.Add(reason);
            }
        }, "noprocess-" + Guid.NewGuid().ToString("N")[..8]);
        Client = new ChannelClient(clientSide);
    }

    public BrokerSession Session { get; }

    public ChannelClient Client { get; }

    /// <summary>The client's raw pipe, for frames no well-behaved client sends.</summary>
    public IDuplexPipe ClientPipe { get; }

    public IReadOnlyList<string> Violations
    {
        get
        {
            lock (violations)
            {
                return [.. violations];
            }
        }
    }

    /// <summary>A channel in the broker, with its host-side end.</summary>
    public static InterpreterChannel<int> HostChannel(int? capacity) => new(ChannelBroker.Create(capacity));

    /// <summary>The same channel as the client sees it (an end that reached the "worker").</summary>
    public InterpreterChannel<int> ClientEnd(InterpreterChannel<int> hostChannel) => new(Client.GetCore(((ProcIsolates.Protocol.Channels.IInterpreterChannelEnd)hostChannel).Handle));
}
