namespace ProcIsolates.Compilation;

/// <summary>A code string compiled to an assembly, named by the hash of what went into it.</summary>
/// <param name="Id">Lower-case hex SHA-256 of the code and its variables' names and types.</param>
/// <param name="Assembly">The assembly's bytes.</param>
/// <param name="VariableTypes">The type each variable was compiled with; its value travels as this type.</param>
internal sealed record CompiledCode(string Id, byte[] Assembly, IReadOnlyDictionary<string, Type> VariableTypes);
