namespace ProcIsolates.Protocol.Channels;

/// <summary>What a frame on a worker's channel-data stream asks or tells (see docs/protocol.md).</summary>
public enum ChannelOp : byte
{
    /// <summary>
    /// Worker → host: this process holds an end of <c>channel</c>; send it completion news. <c>a</c> is the request
    /// number the host answers with <see cref="Attached"/>, which tells the state the new end starts from.
    /// </summary>
    Attach = 1,

    /// <summary>Worker → host: an item; <c>a</c> is a sequence number to confirm, 0 for none.</summary>
    Write = 2,

    /// <summary>Worker → host: send up to <c>a</c> items; <c>flag</c>: wait for at least one; <c>b</c>: the request number the <see cref="Deliver"/> echoes.</summary>
    Demand = 3,

    /// <summary>Worker → host: reserve up to <c>a</c> slots for writes (bounded and rendezvous channels); <c>flag</c>: wait for one; <c>b</c>: the request number the <see cref="Credit"/> echoes.</summary>
    WantCredit = 4,

    /// <summary>Worker → host: no more writes; the error, if any, is what readers see.</summary>
    Complete = 5,

    /// <summary>Worker → host: how many items wait in the broker; <c>a</c> is the request number.</summary>
    Count = 6,

    /// <summary>Worker → host: drop this process's waiting demand and credit request on <c>channel</c>.</summary>
    Withdraw = 7,

    /// <summary>Worker → host: only the acknowledgements every worker frame carries.</summary>
    Ack = 8,

    /// <summary>Worker → host: create a channel of capacity <c>a</c>; <c>channel</c> is the request number.</summary>
    Create = 9,

    /// <summary>Worker → host: the last <c>a</c> items delivered on <c>channel</c> were not read; put them back at its head.</summary>
    ReturnUnread = 10,

    /// <summary>Worker → host: <c>a</c> write slots granted on <c>channel</c> will not be used.</summary>
    ReturnCredit = 11,

    /// <summary>Worker → host: answer <see cref="BarrierReply"/> <c>a</c> once every earlier frame is carried out (sent when a call ends, before its reply).</summary>
    Barrier = 12,

    /// <summary>
    /// Worker → host: the rendezvous write <c>a</c> was cancelled; take it back if no reader has taken it. The host
    /// answers with <see cref="Confirm"/> <c>a</c>: with <c>flag</c> it was taken back, without it a reader had it first.
    /// </summary>
    Retract = 13,

    /// <summary>
    /// Worker → host: this process has seen that <c>channel</c> was completed (<see cref="Completed"/>) and will send no
    /// more writes to it. Writes it sent before this frame were sent before it knew, and the broker takes them; the
    /// channel does not end before every process holding it has said so (or is gone).
    /// </summary>
    CompletionSeen = 14,

    /// <summary>
    /// Worker → host: a handle to <c>channel</c> is leaving this process (in a channel item, a call's argument or
    /// result), so other processes may come to hold it. Sent once per channel, before the bytes that carry the handle.
    /// A channel created by a worker and never exported ends with its creator (see docs/protocol.md).
    /// </summary>
    Export = 15,

    /// <summary>Host → worker: the answer to the demand numbered <c>b</c>; <c>flag</c>: the channel has ended (completed and drained).</summary>
    Deliver = 20,

    /// <summary>Host → worker: <c>a</c> write slots granted, answering the request numbered <c>b</c>; <c>flag</c>: the channel is closed for writing.</summary>
    Credit = 21,

    /// <summary>Host → worker: write <c>a</c> is in the broker (or, with an error, was refused; with <c>flag</c>, taken back after <see cref="Retract"/>).</summary>
    Confirm = 22,

    /// <summary>Host → worker: the channel was completed for writing; <c>flag</c>: it has also been drained.</summary>
    Completed = 23,

    /// <summary>Host → worker: the answer to <see cref="Count"/> number <c>a</c> is <c>b</c>.</summary>
    CountReply = 24,

    /// <summary>Host → worker: the answer to <see cref="Create"/> number <c>a</c>: channel <c>channel</c>, capacity <c>b</c>.</summary>
    Created = 25,

    /// <summary>Host → worker: every frame before <see cref="Barrier"/> number <c>a</c> has been carried out.</summary>
    BarrierReply = 26,

    /// <summary>
    /// Host → worker: the answer to <see cref="Attach"/> number <c>a</c>: <c>flag</c>, the channel is closed for
    /// writing (with its error); <c>b</c> is 1 if it has also ended.
    /// </summary>
    Attached = 27,
}
