using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using ProcIsolates.Comparison;

namespace ProcIsolates.Benchmarks;

/// <summary>Runs the isolation comparison, prints it, and writes it with its chart into docs/benchmarks.md.</summary>
public static class ComparisonReport
{
    private const string Begin = "<!-- isolation-comparison:begin (written by build.ps1 compare) -->";
    private const string End = "<!-- isolation-comparison:end -->";

    /// <summary>Measures, prints, and (when every level was measured) writes docs/benchmarks.md and the chart.</summary>
    /// <param name="args">The words after <c>compare</c>: <c>quick</c> for the short setting, level names to measure only those.</param>
    public static async Task<int> RunAsync(string[] args)
    {
        bool quick = args.Contains("quick", StringComparer.OrdinalIgnoreCase);
        Isolation[] levels = [.. Enum.GetValues<Isolation>().Where(level => args.Contains(level.ToString(), StringComparer.OrdinalIgnoreCase))];
        ComparisonSettings settings = quick ? ComparisonSettings.Quick : ComparisonSettings.Full;
        IReadOnlyList<ComparisonRow> rows = await IsolationComparison.RunAsync(settings, message => Console.WriteLine("... " + message), levels.Length == 0 ? null : levels);
        string table = ComparisonTable.ToMarkdown(rows);
        Console.WriteLine();
        Console.WriteLine(table);
        if (levels.Length != 0)
        {
            return 0; // A partial run is not the comparison: the docs keep the last full one.
        }

        string docs = Path.Combine(Repository.Root, "docs");
        string chart = Path.Combine(docs, "images", "isolation-comparison.png");
        Directory.CreateDirectory(Path.GetDirectoryName(chart)!);
        ComparisonChart.Save(rows, chart);
        Console.WriteLine("chart: " + chart);

        string section = Section(table, settings, quick);
        string benchmarks = Path.Combine(docs, "benchmarks.md");
        string text = File.ReadAllText(benchmarks);
        int begin = text.IndexOf(Begin, StringComparison.Ordinal);
        int end = text.IndexOf(End, StringComparison.Ordinal);
        text = begin >= 0 && end > begin
            ? string.Concat(text.AsSpan(0, begin), section, text.AsSpan(end + End.Length))
            : text.TrimEnd() + Environment.NewLine + Environment.NewLine + section + Environment.NewLine;
        File.WriteAllText(benchmarks, text);
        Console.WriteLine("written: " + benchmarks);
        return 0;
    }

    private static string Section(string table, ComparisonSettings settings, bool quick)
    {
        var section = new StringBuilder();
        section.AppendLine(Begin);
        section.AppendLine(CultureInfo.InvariantCulture, $"Command: `dotnet pwsh build.ps1 compare{(quick ? " -Quick" : string.Empty)}` (runs `dotnet run --project bench/ProcIsolates.Benchmarks -c Release -- compare{(quick ? " quick" : string.Empty)}`), {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.");
        section.AppendLine();
        section.AppendLine(CultureInfo.InvariantCulture, $"Machine: {Environment.ProcessorCount} cores ({CpuModel()}), {RuntimeInformation.OSDescription}, .NET {Environment.Version}. Settings: {settings}.");
        section.AppendLine();
        section.Append(table);
        section.AppendLine();
        section.AppendLine("![Isolation levels compared](images/isolation-comparison.png)");
        section.Append(End);
        return section.ToString();
    }

    private static string CpuModel()
    {
        try
        {
            string? line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line?.Split(':', 2)[1].Trim() ?? RuntimeInformation.ProcessArchitecture.ToString();
        }
        catch (IOException)
        {
            return RuntimeInformation.ProcessArchitecture.ToString();
        }
    }
}
