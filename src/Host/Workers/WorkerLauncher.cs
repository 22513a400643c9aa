using System.Diagnostics;
using System.Runtime.InteropServices;
using ProcIsolates.Worker;

namespace ProcIsolates.Workers;

/// <summary>
/// Finds how to start a worker: the <c>dotnet</c> host, the worker assembly (shipped beside ProcIsolates.dll), and
/// the app's own runtimeconfig and deps files, so that the app's assemblies resolve in the worker exactly as in the app
/// (the way Microsoft.DotNet.RemoteExecutor runs <c>dotnet exec --runtimeconfig … --depsfile …</c>).
/// </summary>
internal sealed class WorkerLauncher
{
    private static readonly Lazy<WorkerLauncher> Discovered = new(Discover);

    private readonly string program;
    private readonly string[] leadingArguments;

    private WorkerLauncher(string program, params string[] leadingArguments)
    {
        this.program = program;
        this.leadingArguments = leadingArguments;
    }

    public static WorkerLauncher Current => Discovered.Value;

    public ProcessStartInfo CreateStartInfo(WorkerArguments arguments, InterpreterOptions options, IEnumerable<KeyValuePair<string, string?>>? sandboxEnvironment = null)
    {
        var start = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardError = true,
            RedirectStandardOutput = false,
        };
        foreach (string argument in leadingArguments.Concat(arguments.ToArgumentList()))
        {
            start.ArgumentList.Add(argument);
        }

        // The sandbox's variables (its temp directory) come last, so that they win.
        foreach ((string name, string? value) in options.WorkerEnvironment().Concat(sandboxEnvironment ?? []))
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        if (options.WorkingDirectory is not null)
        {
            start.WorkingDirectory = options.WorkingDirectory;
        }

        return start;
    }

    private static WorkerLauncher Discover()
    {
        if (ProcIsolatesWorker.IsHostedByApp && Environment.ProcessPath is { } appPath)
        {
            // The app runs workers itself (ProcIsolatesWorker.TryRun): through its apphost or single-file executable,
            // or, when it was started as `dotnet app.dll`, the same way.
            bool muxer = Path.GetFileNameWithoutExtension(appPath).Equals("dotnet", StringComparison.OrdinalIgnoreCase);
            string? entry = System.Reflection.Assembly.GetEntryAssembly()?.Location;
            return muxer && !string.IsNullOrEmpty(entry)
                ? new WorkerLauncher(appPath, entry, WorkerProcess.AppHostedMarker)
                : new WorkerLauncher(appPath, WorkerProcess.AppHostedMarker);
        }

        string workerAssembly = typeof(WorkerProcess).Assembly.Location;
        if (string.IsNullOrEmpty(workerAssembly) || !File.Exists(workerAssembly))
        {
            throw new InterpreterException(
                "The ProcIsolates worker assembly has no file on disk (a single-file app?). Call ProcIsolatesWorker.TryRun(args, out int exitCode) first thing in Main, so that the app's own executable can run workers.");
        }

        // The host lists the app's deps file first, then the frameworks', separated by ';' on every platform.
        string? depsFile = (AppContext.GetData("APP_CONTEXT_DEPS_FILES") as string)?
            .Split(';', StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault(File.Exists);

        // The app's runtimeconfig sits beside its deps file (under `dotnet test` both belong to the test assembly, not testhost).
        string? runtimeConfig = depsFile is null ? null : depsFile[..^".deps.json".Length] + ".runtimeconfig.json";
        if (runtimeConfig is null || !File.Exists(runtimeConfig))
        {
            runtimeConfig = Path.ChangeExtension(workerAssembly, ".runtimeconfig.json");
        }

        if (!File.Exists(runtimeConfig))
        {
            throw new InterpreterException($"No runtimeconfig.json found for the app (looked beside '{depsFile}' and '{workerAssembly}').");
        }

        return depsFile is null
            ? new WorkerLauncher(FindDotnetHost(), "exec", "--runtimeconfig", runtimeConfig, workerAssembly)
            : new WorkerLauncher(FindDotnetHost(), "exec", "--runtimeconfig", runtimeConfig, "--depsfile", depsFile, workerAssembly);
    }

    private static string FindDotnetHost()
    {
        string hostName = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "dotnet.exe" : "dotnet";
        if (Environment.ProcessPath is { } processPath && Path.GetFileName(processPath).Equals(hostName, StringComparison.OrdinalIgnoreCase))
        {
            return processPath;
        }

        // An app started through its apphost: the dotnet host is three folders above the runtime (dotnet/shared/Microsoft.NETCore.App/<version>).
        string runtimeDirectory = RuntimeEnvironment.GetRuntimeDirectory().TrimEnd(Path.DirectorySeparatorChar);
        string? root = Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(runtimeDirectory)));
        if (root is not null && File.Exists(Path.Combine(root, hostName)))
        {
            return Path.Combine(root, hostName);
        }

        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { } hostPath && File.Exists(hostPath))
        {
            return hostPath;
        }

        throw new InterpreterException($"Cannot find the '{hostName}' host beside the runtime in '{runtimeDirectory}'; set DOTNET_HOST_PATH.");
    }
}
