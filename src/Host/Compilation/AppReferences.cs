using System.Collections.Immutable;
using System.Reflection.Metadata;
using Microsoft.CodeAnalysis;

namespace ProcIsolates.Compilation;

/// <summary>
/// The assemblies code strings compile against: every assembly the app can load (the runtime's trusted platform
/// assemblies, which include the app's own and its packages'), so code can use the user's types.
/// </summary>
internal static class AppReferences
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> All = new(Load);

    public static ImmutableArray<MetadataReference> Get() => All.Value;

    private static ImmutableArray<MetadataReference> Load()
    {
        string paths = AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string ?? string.Empty;
        var references = ImmutableArray.CreateBuilder<MetadataReference>();
        foreach (string path in paths.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            if (path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) && File.Exists(path))
            {
                references.Add(MetadataReference.CreateFromFile(path));
            }
        }

        // Assemblies loaded from elsewhere (a plugin folder, a test runner's shadow copy) are referenced too.
        var seen = new HashSet<string>(paths.Split(Path.PathSeparator), StringComparer.Ordinal);
        foreach (System.Reflection.Assembly assembly in AppDomain.CurrentDomain.GetAssemblies())
        {
            if (!assembly.IsDynamic && assembly.Location.Length > 0 && seen.Add(assembly.Location) && File.Exists(assembly.Location))
            {
                references.Add(MetadataReference.CreateFromFile(assembly.Location));
            }
        }

        // A single-file app has its assemblies inside its executable, with no paths: reference them from memory.
        if (references.Count == 0 || string.IsNullOrEmpty(typeof(AppReferences).Assembly.Location))
        {
            return FromLoadedMetadata();
        }

        return references.ToImmutable();
    }

    /// <summary>
    /// References the metadata of the app's assembly graph as it sits in memory: the entry assembly, the assemblies of
    /// the implicit usings, and everything they reference, loaded as needed.
    /// </summary>
    private static ImmutableArray<MetadataReference> FromLoadedMetadata()
    {
        var pending = new Queue<System.Reflection.Assembly>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        void Visit(System.Reflection.Assembly? assembly)
        {
            if (assembly is { IsDynamic: false } && seen.Add(assembly.GetName().Name ?? string.Empty))
            {
                pending.Enqueue(assembly);
            }
        }

        Visit(System.Reflection.Assembly.GetEntryAssembly());
        Visit(typeof(object).Assembly);
        Visit(typeof(AppReferences).Assembly);
        foreach (string name in (string[])["System.Runtime", "System.Console", "System.Linq", "System.Collections", "System.Threading", "System.Threading.Tasks", "System.IO", "netstandard", "ProcIsolates.Worker"])
        {
            Visit(TryLoad(new System.Reflection.AssemblyName(name)));
        }

        var references = ImmutableArray.CreateBuilder<MetadataReference>();
        while (pending.TryDequeue(out System.Reflection.Assembly? assembly))
        {
            if (FromMemory(assembly) is { } reference)
            {
                references.Add(reference);
            }

            foreach (System.Reflection.AssemblyName referenced in assembly.GetReferencedAssemblies())
            {
                if (!seen.Contains(referenced.Name ?? string.Empty))
                {
                    Visit(TryLoad(referenced));
                }
            }
        }

        return references.ToImmutable();
    }

    private static System.Reflection.Assembly? TryLoad(System.Reflection.AssemblyName name)
    {
        try
        {
            return System.Reflection.Assembly.Load(name);
        }
        catch (Exception ex) when (ex is FileNotFoundException or FileLoadException or BadImageFormatException)
        {
            return null; // Referenced but not shipped (a facade nobody loads): the compiler does without it.
        }
    }

    private static unsafe PortableExecutableReference? FromMemory(System.Reflection.Assembly assembly) =>
        assembly.TryGetRawMetadata(out byte* blob, out int length)
            ? AssemblyMetadata.Create(ModuleMetadata.CreateFromMetadata((IntPtr)blob, length)).GetReference()
            : null;
}
