using System.Text;

namespace ProcIsolates.Worker.Execution;

/// <summary>
/// Captures what code writes to <see cref="Console.Out"/> and <see cref="Console.Error"/> during one exec. The console
/// writers are replaced once by writers that look up the current exec through an <see cref="AsyncLocal{T}"/>, so
/// concurrent execs each get their own output, and writes outside any exec go to the real console.
/// </summary>
internal static class ConsoleCapture
{
    private static readonly AsyncLocal<CapturedOutput?> Current = new();
    private static readonly Lock InstallLock = new();
    private static bool installed;

    /// <summary>Replaces the console writers; safe to call more than once.</summary>
    public static void Install()
    {
        lock (InstallLock)
        {
            if (installed)
            {
                return;
            }

            Console.SetOut(new RoutingWriter(Console.Out, static output => output.Stdout));
            Console.SetError(new RoutingWriter(Console.Error, static output => output.Stderr));
            installed = true;
        }
    }

    /// <summary>Routes this async flow's console output into <paramref name="output"/> until the returned scope ends.</summary>
    /// <param name="output">Where the output goes.</param>
    /// <returns>The scope.</returns>
    public static Scope Begin(CapturedOutput output)
    {
        Install();
        CapturedOutput? previous = Current.Value;
        Current.Value = output;
        return new Scope(previous);
    }

    /// <summary>Restores the previous capture.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly CapturedOutput? previous;

        internal Scope(CapturedOutput? previous) => this.previous = previous;

        /// <inheritdoc/>
        public void Dispose() => Current.Value = previous;
    }

    private sealed class RoutingWriter(TextWriter inner, Func<CapturedOutput, StringBuilder> select) : TextWriter
    {
        public override Encoding Encoding => inner.Encoding;

        public override IFormatProvider FormatProvider => inner.FormatProvider;

        public override string NewLine
        {
            get => inner.NewLine;
#pragma warning disable CS8765 // TextWriter.NewLine's setter takes string? and treats null as the default.
            set => inner.NewLine = value;
#pragma warning restore CS8765
        }

        public override void Write(char value)
        {
            if (Current.Value is { } output)
            {
                output.Append(select(output), value);
            }
            else
            {
                inner.Write(value);
            }
        }

        public override void Write(string? value)
        {
            if (Current.Value is { } output)
            {
                output.Append(select(output), value);
            }
            else
            {
                inner.Write(value);
            }
        }

        public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

        public override void Write(ReadOnlySpan<char> buffer) => Write(new string(buffer));

        public override void WriteLine(string? value) => Write(value + new string(CoreNewLine));

        public override void Flush()
        {
            if (Current.Value is null)
            {
                inner.Flush();
            }
        }
    }
}
