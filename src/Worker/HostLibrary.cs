using System.Reflection;
using System.Runtime.CompilerServices;

namespace ProcIsolates.Worker;

/// <summary>
/// Loads the ProcIsolates library into the worker before any request is served. The worker does not reference it
/// (the library references the worker), but the library installs, when it loads, what turns channel handles in call
/// arguments back into channel ends, and a method's parameters alone would not make the runtime load it.
/// </summary>
internal static class HostLibrary
{
    private static readonly Lazy<bool> Loaded = new(Load);

    /// <summary>Whether the library is loaded; loads it on first use.</summary>
    public static bool EnsureLoaded() => Loaded.Value;

    private static bool Load()
    {
        try
        {
            Assembly library = Assembly.Load(new AssemblyName("ProcIsolates"));
            RuntimeHelpers.RunModuleConstructor(library.ManifestModule.ModuleHandle);
            return true;
        }
        catch (Exception ex) when (ex is FileNotFoundException or FileLoadException or BadImageFormatException)
        {
            return false; // A worker started by something else than the library (tests of the worker alone).
        }
    }
}
