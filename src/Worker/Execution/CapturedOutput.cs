using System.Text;

namespace ProcIsolates.Worker.Execution;

/// <summary>The output of one exec; appends are locked because the code may write from several threads.</summary>
internal sealed class CapturedOutput
{
    private readonly Lock gate = new();

    public StringBuilder Stdout { get; } = new();

    public StringBuilder Stderr { get; } = new();

    public void Append(StringBuilder target, char value)
    {
        lock (gate)
        {
            target.Append(value);
        }
    }

    public void Append(StringBuilder target, string? value)
    {
        lock (gate)
        {
            target.Append(value);
        }
    }

    public (string Stdout, string Stderr) Snapshot()
    {
        lock (gate)
        {
            return (Stdout.ToString(), Stderr.ToString());
        }
    }
}
