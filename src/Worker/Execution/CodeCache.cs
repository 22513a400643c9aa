using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.Loader;

namespace ProcIsolates.Worker.Execution;

/// <summary>
/// The compiled exec assemblies this interpreter has loaded, by content id. They load into the interpreter's context
/// (the default one in a worker), so that they see the app's own assemblies and the statics they touch live as long
/// as the interpreter.
/// </summary>
/// <param name="loadContext">Where the assemblies load.</param>
internal sealed class CodeCache(AssemblyLoadContext loadContext)
{
    private readonly ConcurrentDictionary<string, Lazy<MethodInfo>> entryPoints = new(StringComparer.Ordinal);

    /// <summary>Finds the entry point of a loaded assembly, loading it from <paramref name="assembly"/> the first time.</summary>
    /// <param name="codeId">The assembly's content id.</param>
    /// <param name="assembly">Its bytes, if the host sent them.</param>
    /// <returns>The entry point.</returns>
    /// <exception cref="UnknownCodeException">The id is unknown and no bytes came with it.</exception>
    public MethodInfo GetEntryPoint(string codeId, byte[]? assembly)
    {
        if (entryPoints.TryGetValue(codeId, out Lazy<MethodInfo>? known))
        {
            return known.Value;
        }

        if (assembly is null)
        {
            throw new UnknownCodeException($"This worker has no code '{codeId}' and the request did not carry it.");
        }

        return entryPoints.GetOrAdd(codeId, _ => new Lazy<MethodInfo>(() =>
        {
            Assembly loaded = loadContext.LoadFromStream(new MemoryStream(assembly));
            return loaded.EntryPoint ?? throw new InvalidOperationException($"The code '{codeId}' has no entry point.");
        })).Value;
    }
}
