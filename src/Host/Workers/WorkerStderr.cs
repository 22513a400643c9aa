using System.Diagnostics;
using System.Text;

namespace ProcIsolates.Workers;

/// <summary>
/// Reads a worker's standard error as bytes, with bounded memory and CPU whatever the worker writes: lines are cut at
/// <see cref="MaxLineBytes"/>, at most <see cref="LinesPerSecond"/> lines a second are passed on (the rest are counted,
/// and a notice says how many were not), and the crash report's tail is the last <see cref="TailBytes"/> bytes.
/// </summary>
/// <remarks>
/// The runtime's line reader (<c>BeginErrorReadLine</c>) builds each line as a string however long it is, and hands
/// every line on however many there are: a worker writing hundreds of megabytes without a newline grew the host by
/// twice that, and short lines cost the host seconds of CPU.
/// </remarks>
internal sealed class WorkerStderr
{
    /// <summary>The longest line passed on, in bytes; the rest of a longer line is replaced by a mark.</summary>
    public const int MaxLineBytes = 4096;

    /// <summary>How many lines a second are passed on, on average; up to twice as many in a burst.</summary>
    public const int LinesPerSecond = 10_000;

    /// <summary>How many of the last bytes are kept for a crash report.</summary>
    public const int TailBytes = 8192;

    private const int TailLines = 40;
    private const string CutMark = " …[line cut]";

    private readonly byte[] tail = new byte[TailBytes];
    private readonly Lock tailGate = new();
    private readonly byte[] line = new byte[MaxLineBytes];
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private long tailWritten;
    private int lineLength;
    private bool lineCut;
    private double allowance = 2 * LinesPerSecond;
    private long lastRefillTicks;
    private long notPassedOn;
    private volatile Action<string>? route;
    private Task completion = Task.CompletedTask;

    /// <summary>Completes when the worker's standard error has ended (every process holding it has closed it).</summary>
    public Task Completion => completion;

    /// <summary>Starts reading.</summary>
    /// <param name="stream">The read end of the worker's standard error.</param>
    public void Start(Stream stream) => completion = Task.Run(() => ReadAsync(stream));

    /// <summary>Sends each line to <paramref name="write"/> instead of the host's standard error.</summary>
    /// <param name="write">Where the lines go.</param>
    public void Route(Action<string> write) => route = write;

    /// <summary>The last lines written, for a crash report.</summary>
    /// <returns>Up to 40 lines from the last <see cref="TailBytes"/> bytes.</returns>
    public override string ToString()
    {
        byte[] copy;
        lock (tailGate)
        {
            int length = (int)Math.Min(tailWritten, TailBytes);
            copy = new byte[length];
            int start = (int)((tailWritten - length) % TailBytes);
            int first = Math.Min(length, TailBytes - start);
            tail.AsSpan(start, first).CopyTo(copy);
            tail.AsSpan(0, length - first).CopyTo(copy.AsSpan(first));
            if (tailWritten > TailBytes && Array.IndexOf(copy, (byte)'\n') is int cut and >= 0)
            {
                copy = copy[(cut + 1)..]; // The first line was cut by the window.
            }
        }

        string[] lines = Encoding.UTF8.GetString(copy).TrimEnd('\n', '\r').Split('\n');
        return string.Join(Environment.NewLine, lines.Skip(Math.Max(0, lines.Length - TailLines)).Select(l => l.TrimEnd('\r')));
    }

    private async Task ReadAsync(Stream stream)
    {
        byte[] buffer = new byte[64 * 1024];
        try
        {
            int count;
            while ((count = await stream.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            {
                KeepTail(buffer.AsSpan(0, count));
                Split(buffer.AsSpan(0, count));
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // The pipe broke: there is nothing more to read.
        }

        if (lineLength > 0 || lineCut)
        {
            EndLine();
        }

        ReportNotPassedOn();
    }

    private void KeepTail(ReadOnlySpan<byte> bytes)
    {
        lock (tailGate)
        {
            if (bytes.Length > TailBytes)
            {
                tailWritten += bytes.Length - TailBytes;
                bytes = bytes[^TailBytes..];
            }

            int start = (int)(tailWritten % TailBytes);
            int first = Math.Min(bytes.Length, TailBytes - start);
            bytes[..first].CopyTo(tail.AsSpan(start));
            bytes[first..].CopyTo(tail);
            tailWritten += bytes.Length;
        }
    }

    private void Split(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            if (lineLength == 0 && !lineCut && !HasAllowance() && bytes.LastIndexOf((byte)'\n') is int last and >= 0)
            {
                // Over the rate: the whole lines of this read are only counted (vectorized), not assembled one by one.
                notPassedOn += bytes[..(last + 1)].Count((byte)'\n');
                bytes = bytes[(last + 1)..];
                continue;
            }

            int end = bytes.IndexOf((byte)'\n');
            ReadOnlySpan<byte> piece = end < 0 ? bytes : bytes[..end];
            int room = MaxLineBytes - lineLength;
            if (piece.Length > room)
            {
                lineCut = true;
                piece = piece[..room];
            }

            piece.CopyTo(line.AsSpan(lineLength));
            lineLength += piece.Length;
            if (end < 0)
            {
                return;
            }

            EndLine();
            bytes = bytes[(end + 1)..];
        }
    }

    private void EndLine()
    {
        int length = lineLength > 0 && line[lineLength - 1] == '\r' ? lineLength - 1 : lineLength;
        bool cut = lineCut;
        lineLength = 0;
        lineCut = false;
        if (!TakeAllowance())
        {
            notPassedOn++;
            return;
        }

        ReportNotPassedOn();
        string text = Encoding.UTF8.GetString(line, 0, length);
        Write(cut ? text + CutMark : text);
    }

    /// <summary>Whether a line may be passed on now (refills the bucket if it is empty); takes nothing.</summary>
    private bool HasAllowance()
    {
        if (allowance >= 1)
        {
            return true;
        }

        Refill();
        return allowance >= 1;
    }

    private void Refill()
    {
        long now = clock.ElapsedTicks;
        allowance = Math.Min(2 * LinesPerSecond, allowance + ((now - lastRefillTicks) * LinesPerSecond / (double)Stopwatch.Frequency));
        lastRefillTicks = now;
    }

    /// <summary>A token bucket: <see cref="LinesPerSecond"/> refilled each second, twice that at most.</summary>
    private bool TakeAllowance()
    {
        if (allowance < 1)
        {
            // Refilled only when empty, and while lines are dropped, looked at every 1,024 lines: the clock is not read per line.
            if ((notPassedOn & 1023) != 0)
            {
                return false;
            }

            Refill();
            if (allowance < 1)
            {
                return false;
            }
        }

        allowance--;
        return true;
    }

    private void ReportNotPassedOn()
    {
        if (notPassedOn > 0)
        {
            long count = notPassedOn;
            notPassedOn = 0;
            Write($"[ProcIsolates: {count} lines of this worker's standard error were not passed on: more than {LinesPerSecond} lines a second]");
        }
    }

    private void Write(string text)
    {
        try
        {
            if (route is { } write)
            {
                write(text);
            }
            else
            {
                Console.Error.WriteLine(text);
            }
        }
#pragma warning disable CA1031 // A failing logger must not end the reader, or the worker would block on a full pipe.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }
}
