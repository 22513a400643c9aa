namespace ProcIsolates.Worker.Execution;

/// <summary>An exec named code by id that this worker was never sent (the host then sends the assembly).</summary>
internal sealed class UnknownCodeException(string message) : Exception(message);
