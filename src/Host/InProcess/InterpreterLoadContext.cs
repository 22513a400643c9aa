using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace ProcIsolates.InProcess;

/// <summary>
/// The assembly load context of an <see cref="Isolation.AssemblyLoadContext"/> interpreter: the app's own assemblies
/// (and the packages only the app uses) load again here, so their statics are the interpreter's own; the framework,
/// ProcIsolates and what ProcIsolates depends on stay shared with the host, so values and channel ends can cross.
/// </summary>
internal sealed class InterpreterLoadContext : AssemblyLoadContext
{
    private static readonly Lazy<AppAssemblies> App = new(AppAssemblies.Find);

    /// <summary>Initializes a new instance of the <see cref="InterpreterLoadContext"/> class.</summary>
    /// <param name="interpreterId">The interpreter's id, for the context's name.</param>
    public InterpreterLoadContext(long interpreterId)
        : base($"ProcIsolates interpreter {interpreterId}", isCollectible: true)
    {
    }

    /// <inheritdoc/>
    protected override Assembly? Load(AssemblyName assemblyName)
    {
        // Anything not isolated resolves in the default context (returning null defers to it).
        return assemblyName.Name is { } name && App.Value.Isolated.TryGetValue(name, out string? path) ? LoadFromAssemblyPath(path) : null;
    }

    /// <summary>The app's assemblies that load per interpreter, by simple name, with their paths.</summary>
    private sealed record AppAssemblies(Dictionary<string, string> Isolated)
    {
        public static AppAssemblies Find()
        {
            var paths = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            if (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") is string list)
            {
                string runtimeDirectory = Path.GetFullPath(RuntimeEnvironment.GetRuntimeDirectory());
                foreach (string path in list.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
                {
                    // Framework assemblies are shared: they have no app state, and types like string must stay one type.
                    if (!Path.GetFullPath(path).StartsWith(runtimeDirectory, StringComparison.Ordinal))
                    {
                        paths.TryAdd(Path.GetFileNameWithoutExtension(path), path);
                    }
                }
            }

            foreach (string shared in SharedClosure(paths))
            {
                paths.Remove(shared);
            }

            return new AppAssemblies(paths);
        }

        /// <summary>
        /// ProcIsolates and everything it references, read from metadata without loading anything: the host's side of
        /// the interpreter (serializer, channels, broker) must be the same types as the code's.
        /// </summary>
        private static HashSet<string> SharedClosure(Dictionary<string, string> paths)
        {
            var shared = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            var pending = new Stack<string>([typeof(InterpreterLoadContext).Assembly.GetName().Name!]);
            while (pending.TryPop(out string? name))
            {
                if (!shared.Add(name) || !paths.TryGetValue(name, out string? path))
                {
                    continue;
                }

                foreach (string reference in References(path))
                {
                    pending.Push(reference);
                }
            }

            return shared;
        }

        private static List<string> References(string path)
        {
            try
            {
                using var reader = new PEReader(File.OpenRead(path));
                MetadataReader metadata = reader.GetMetadataReader();
                return metadata.AssemblyReferences.Select(handle => metadata.GetString(metadata.GetAssemblyReference(handle).Name)).ToList();
            }
            catch (Exception ex) when (ex is IOException or BadImageFormatException or InvalidOperationException or UnauthorizedAccessException)
            {
                return []; // Not a readable managed assembly: nothing to follow.
            }
        }
    }
}
