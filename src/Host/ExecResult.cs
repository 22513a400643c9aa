namespace ProcIsolates;

/// <summary>What one <see cref="Interpreter.ExecAsync"/> wrote and how long it ran.</summary>
/// <param name="Stdout">Everything the code wrote to <see cref="Console.Out"/>, in order.</param>
/// <param name="Stderr">Everything the code wrote to <see cref="Console.Error"/>, in order.</param>
/// <param name="Duration">How long the code ran inside the interpreter.</param>
public sealed record ExecResult(string Stdout, string Stderr, TimeSpan Duration);
