using System.Collections.Immutable;
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

        return references.ToImmutable();
    }
}
