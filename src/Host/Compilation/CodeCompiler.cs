using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using ProcIsolates.Protocol.Serialization;

namespace ProcIsolates.Compilation;

/// <summary>
/// Compiles exec code strings with Roslyn in the host, so that workers never load the compiler. The code is the body
/// of a C# program with top-level statements; variables become properties in scope through a generated
/// <c>global using static</c>. Results are cached by content.
/// </summary>
internal static class CodeCompiler
{
    private const string VariablesClass = "__ProcIsolatesVariables";

    private static readonly string[] ImplicitUsings =
        ["System", "System.IO", "System.Linq", "System.Collections.Generic", "System.Threading", "System.Threading.Tasks", "ProcIsolates"];

    private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private static readonly ConcurrentDictionary<string, Lazy<CompiledCode>> Cache = new(StringComparer.Ordinal);

    private static int warmUpStarted;

    /// <summary>
    /// Compiles a small program once in the background, the first time this is called: Roslyn's first compilation in
    /// a process costs 0.5-1 s, nearly all of it the JIT of the binder (Roslyn's package is IL only), which would
    /// otherwise fall on the first exec. Nothing is cached by it; a real exec meanwhile compiles alongside and shares
    /// what is compiled by then.
    /// </summary>
    public static void WarmUpInBackground()
    {
        if (Interlocked.Exchange(ref warmUpStarted, 1) == 1)
        {
            return;
        }

        var thread = new Thread(() =>
        {
            try
            {
                _ = Build("warm-up-not-cached", "int warmUp = args.Length + 1;\nConsole.Write(warmUp);", new Dictionary<string, Type> { ["value"] = typeof(int) });
            }
#pragma warning disable CA1031 // An optimisation only: the first real exec reports any real problem.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        })
        { IsBackground = true, Name = "ProcIsolates compiler warm-up" };
        thread.Start();
    }

    /// <summary>Compiles <paramref name="code"/> with variables of the types of <paramref name="variables"/>' values.</summary>
    /// <param name="code">The C# statements.</param>
    /// <param name="variables">The variables, or <see langword="null"/>.</param>
    /// <returns>The compiled code.</returns>
    /// <exception cref="CompilationFailedException">The code does not compile.</exception>
    /// <exception cref="NotShareableException">A variable's value cannot be shared, or its type cannot be named in code.</exception>
    public static CompiledCode Compile(string code, IReadOnlyDictionary<string, object?>? variables)
    {
        var types = new SortedDictionary<string, Type>(StringComparer.Ordinal);
        foreach ((string name, object? value) in variables ?? new Dictionary<string, object?>())
        {
            if (!SyntaxFacts.IsValidIdentifier(name))
            {
                throw new ArgumentException($"'{name}' is not a valid C# identifier, so it cannot name a variable.", nameof(variables));
            }

            Type type = VariableType(value);
            if (!type.IsVisible)
            {
                throw new NotShareableException(type.FullName ?? type.Name, $"The variable '{name}' has type '{type}', which is not public, so the code cannot name it.");
            }

            if (ShareableTypes.WhyNotShareable(type) is { } reason)
            {
                throw new NotShareableException(type.FullName ?? type.Name, $"The variable '{name}' is not shareable between interpreters: {reason}");
            }

            types.Add(name, type);
        }

        string id = Hash(code, types);
        Lazy<CompiledCode> entry = Cache.GetOrAdd(id, key => new Lazy<CompiledCode>(() => Build(key, code, types)));
        try
        {
            return entry.Value;
        }
        catch
        {
            Cache.TryRemove(new KeyValuePair<string, Lazy<CompiledCode>>(id, entry));
            throw;
        }
    }

    private static CompiledCode Build(string id, string code, IReadOnlyDictionary<string, Type> variables)
    {
        SyntaxTree user = CSharpSyntaxTree.ParseText(code, ParseOptions, path: "exec");
        SyntaxTree scope = CSharpSyntaxTree.ParseText(ScopeSource(variables), ParseOptions, path: "exec-scope");
        var compilation = CSharpCompilation.Create(
            "ProcIsolates.Exec." + id[..16],
            [user, scope],
            AppReferences.Get(),
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, optimizationLevel: OptimizationLevel.Release, nullableContextOptions: NullableContextOptions.Enable));

        using var stream = new MemoryStream();
        var result = compilation.Emit(stream);
        if (!result.Success)
        {
            string[] errors = result.Diagnostics
                .Where(d => d.Severity == DiagnosticSeverity.Error)
                .Select(d => $"({d.Location.GetLineSpan().StartLinePosition.Line + 1},{d.Location.GetLineSpan().StartLinePosition.Character + 1}): error {d.Id}: {d.GetMessage(CultureInfo.InvariantCulture)}")
                .ToArray();
            throw new CompilationFailedException(errors);
        }

        return new CompiledCode(id, stream.ToArray(), new Dictionary<string, Type>(variables));
    }

    private static string ScopeSource(IReadOnlyDictionary<string, Type> variables)
    {
        var source = new StringBuilder();
        foreach (string name in ImplicitUsings)
        {
            source.Append("global using global::").Append(name).AppendLine(";");
        }

        source.AppendLine(CultureInfo.InvariantCulture, $"global using static {VariablesClass};");
        source.AppendLine(CultureInfo.InvariantCulture, $"internal static class {VariablesClass}");
        source.AppendLine("{");
        source.AppendLine("    public static global::System.Threading.CancellationToken cancellationToken => global::ProcIsolates.Worker.Execution.ExecScope.CancellationToken;");
        foreach ((string name, Type type) in variables)
        {
            string typeName = CSharpTypeName.Of(type) + (type.IsValueType ? string.Empty : "?");
            source.AppendLine(CultureInfo.InvariantCulture, $"    public static {typeName} @{name}");
            source.AppendLine("    {");
            source.AppendLine(CultureInfo.InvariantCulture, $"        get => global::ProcIsolates.Worker.Execution.ExecScope.Variable<{typeName}>(\"{name}\");");
            source.AppendLine(CultureInfo.InvariantCulture, $"        set => global::ProcIsolates.Worker.Execution.ExecScope.SetVariable<{typeName}>(\"{name}\", value);");
            source.AppendLine("    }");
        }

        source.AppendLine("}");
        return source.ToString();
    }

    private static string Hash(string code, IReadOnlyDictionary<string, Type> variables)
    {
        var text = new StringBuilder(code);
        foreach ((string name, Type type) in variables)
        {
            text.Append('\0').Append(name).Append(':').Append(type.AssemblyQualifiedName);
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>The type code sees a variable as: its value's type, or for a channel end the public type it stands for.</summary>
    private static Type VariableType(object? value) => value switch
    {
        null => typeof(object),
        Protocol.Channels.IInterpreterChannelEnd end when !value.GetType().IsVisible =>
            (end.Handle.Kind == Protocol.Channels.ChannelEndKind.Reader ? typeof(System.Threading.Channels.ChannelReader<>) : typeof(System.Threading.Channels.ChannelWriter<>))
                .MakeGenericType(Protocol.Channels.ChannelEnds.ItemType(value.GetType())),
        _ => value.GetType(),
    };
}
