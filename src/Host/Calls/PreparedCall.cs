using ProcIsolates.Protocol.Messages;

namespace ProcIsolates.Calls;

/// <summary>A call read from an expression: the request to send, and the type its result comes back as.</summary>
/// <param name="Request">The request, arguments already serialized.</param>
/// <param name="ResultType">The method's result type (<see langword="null"/> for void and <see cref="Task"/>).</param>
/// <param name="MethodName">The method's name, for messages.</param>
internal sealed record PreparedCall(CallRequest Request, Type? ResultType, string MethodName);
