using System.Globalization;
using System.Text;

namespace ProcIsolates.Comparison;

/// <summary>Formats a comparison as Markdown: the figures, then each level's figures as ratios to the <see cref="Isolation.Thread"/> baseline.</summary>
public static class ComparisonTable
{
    /// <summary>Formats the rows.</summary>
    /// <param name="rows">The rows of one run.</param>
    /// <returns>Two Markdown tables.</returns>
    public static string ToMarkdown(IReadOnlyList<ComparisonRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var table = new StringBuilder();
        table.AppendLine("| isolation | create → ready | empty call | warm pool hand-out | channel host → interpreter | channel interpreter → interpreter | speed-up, " + Environment.ProcessorCount + " jobs | idle memory / interpreter: RSS (private) |");
        table.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (ComparisonRow row in rows)
        {
            table.AppendLine(Invariant($"| {row.Isolation} | {row.CreateMilliseconds:0.0} ms | {row.EmptyCallMicroseconds:0.0} µs | {row.PoolHandOutMicroseconds:0.0} µs | {row.HostToInterpreterItemsPerSecond:N0} items/s | {row.InterpreterToInterpreterItemsPerSecond:N0} items/s | {row.SpeedUp:0.00}× | {row.IdleMegabytes:0.00} MB ({row.IdlePrivateMegabytes:0.00} MB) |"));
        }

        if (rows.FirstOrDefault(r => r.Isolation == Isolation.Thread) is { } baseline)
        {
            table.AppendLine();
            table.AppendLine("| ratio to Thread (same run) | create → ready | empty call | channel host → interpreter | channel interpreter → interpreter | speed-up |");
            table.AppendLine("|---|---|---|---|---|---|");
            foreach (ComparisonRow row in rows.Where(r => r.Isolation != Isolation.Thread))
            {
                table.AppendLine(Invariant($"| {row.Isolation} | {Ratio(row.CreateMilliseconds, baseline.CreateMilliseconds)} | {Ratio(row.EmptyCallMicroseconds, baseline.EmptyCallMicroseconds)} | {Ratio(row.HostToInterpreterItemsPerSecond, baseline.HostToInterpreterItemsPerSecond)} | {Ratio(row.InterpreterToInterpreterItemsPerSecond, baseline.InterpreterToInterpreterItemsPerSecond)} | {Ratio(row.SpeedUp, baseline.SpeedUp)} |"));
            }
        }

        return table.ToString();
    }

    private static string Ratio(double value, double baseline) => baseline > 0 ? Invariant($"{value / baseline:0.00}×") : "n/a";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
