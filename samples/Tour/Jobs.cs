namespace ProcIsolates.Tour;

/// <summary>Per-interpreter state for the tour: each interpreter has its own copy of these statics.</summary>
public static class Jobs
{
    private static int done;

    /// <summary>How many jobs this interpreter has done.</summary>
    public static int Done => done;

    /// <summary>Records one job and returns the new count.</summary>
    public static int Record() => Interlocked.Increment(ref done);

    /// <summary>Runs a delegate: it cannot be called in another interpreter, since delegates are not shareable.</summary>
    public static void Run(Action work) => work();

    /// <summary>Forgets the jobs done.</summary>
    public static void Reset() => done = 0;
}
