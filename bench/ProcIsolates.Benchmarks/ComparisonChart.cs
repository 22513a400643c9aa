using ProcIsolates.Comparison;
using ScottPlot;

namespace ProcIsolates.Benchmarks;

/// <summary>Draws a comparison as one PNG: a bar chart per figure, one bar per isolation level.</summary>
public static class ComparisonChart
{
    /// <summary>Writes the chart.</summary>
    /// <param name="rows">The rows of one run.</param>
    /// <param name="path">The PNG file to write.</param>
    public static void Save(IReadOnlyList<ComparisonRow> rows, string path)
    {
        (string Title, string Unit, Func<ComparisonRow, double> Value)[] figures =
        [
            ("create → ready", "ms (less is better)", r => r.CreateMilliseconds),
            ("empty call", "µs (less is better)", r => r.EmptyCallMicroseconds),
            ("channel, interpreter → interpreter", "items/s (more is better)", r => r.InterpreterToInterpreterItemsPerSecond),
            ("channel, host → interpreter", "items/s (more is better)", r => r.HostToInterpreterItemsPerSecond),
            ($"speed-up, {Environment.ProcessorCount} CPU-bound jobs", "× one job (more is better)", r => r.SpeedUp),
            ("idle memory per interpreter, private", "MB (less is better)", r => r.IdlePrivateMegabytes),
        ];

        var multiplot = new Multiplot();
        multiplot.AddPlots(figures.Length);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(rows: 2, columns: 3);
        Color[] colors = [Colors.SteelBlue, Colors.DarkOrange, Colors.SeaGreen];
        for (int f = 0; f < figures.Length; f++)
        {
            Plot plot = multiplot.GetPlot(f);
            var bars = rows.Select((row, i) => new Bar
            {
                Position = i,
                Value = figures[f].Value(row),
                FillColor = colors[i % colors.Length],
                Label = Format(figures[f].Value(row)),
            }).ToList();
            ScottPlot.Plottables.BarPlot plottable = plot.Add.Bars(bars);
            plottable.ValueLabelStyle.FontSize = 14;
            plot.Axes.Bottom.SetTicks(rows.Select((_, i) => (double)i).ToArray(), rows.Select(r => r.Isolation.ToString()).ToArray());
            plot.Axes.Margins(bottom: 0, top: 0.2);
            plot.Title(figures[f].Title);
            plot.YLabel(figures[f].Unit);
        }

        multiplot.SavePng(path, 1500, 900);
    }

    private static string Format(double value) => value switch
    {
        >= 10_000 => (value / 1000).ToString("N0", System.Globalization.CultureInfo.InvariantCulture) + "k",
        >= 100 => value.ToString("N0", System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString("0.0#", System.Globalization.CultureInfo.InvariantCulture),
    };
}
