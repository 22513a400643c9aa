using System.Threading.Channels;
using ProcIsolates.Protocol.Channels;

namespace ProcIsolates.Channels.Broker;

/// <summary>The frames the broker sends workers about this channel.</summary>
internal sealed partial class BrokeredChannel
{
    private ChannelFrame DeliverFrame(List<byte[]> items, bool ended, long request) => new()
    {
        Op = ChannelOp.Deliver,
        Channel = Handle.Id,
        B = request,
        Items = items,
        Flag = ended,
        ErrorType = ended ? ChannelErrors.TypeName(error) : null,
        ErrorMessage = ended ? ChannelErrors.Message(error) : null,
    };

    private ChannelFrame CreditFrame(int granted, long request) => new()
    {
        Op = ChannelOp.Credit,
        Channel = Handle.Id,
        A = granted,
        B = request,
        Flag = writingClosed,
        ErrorType = ChannelErrors.TypeName(error),
        ErrorMessage = ChannelErrors.Message(error),
    };

    private ChannelFrame CompletedFrame(bool drained) => new()
    {
        Op = ChannelOp.Completed,
        Channel = Handle.Id,
        Flag = drained,
        ErrorType = ChannelErrors.TypeName(error),
        ErrorMessage = ChannelErrors.Message(error),
    };

    private ChannelFrame ConfirmFrame(long sequence, Exception? failure) => new()
    {
        Op = ChannelOp.Confirm,
        Channel = Handle.Id,
        A = sequence,
        ErrorType = failure is null ? null : typeof(ChannelClosedException).FullName,
        ErrorMessage = failure?.Message,
    };
}
