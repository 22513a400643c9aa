using System.Diagnostics;

namespace ProcIsolates.Tests;

public enum Color
{
    Red,
    Green,
}

public sealed record Point(int X, int Y);

public sealed record Shape(string Name, Point[] Corners, Color Color, DateTime Made);

public class Animal
{
    public string Name { get; set; } = "";
}

public sealed class Dog : Animal
{
    public bool Barks { get; set; }
}

/// <summary>Static methods the tests call in workers.</summary>
public static class TestMethods
{
    private static int counter;
    private static string? marker;

    public static int Counter => counter;

    public static int Increment() => Interlocked.Increment(ref counter);

    /// <summary>Returns <paramref name="size"/> bytes.</summary>
    public static byte[] MakeBytes(int size) => new byte[size];

    /// <summary>Returns the data with every byte incremented: a large argument and a large result.</summary>
    public static byte[] Incremented(byte[] data) => [.. data.Select(b => (byte)(b + 1))];

    public static void ResetCounter() => counter = 0;

    public static void SetMarker(string value) => marker = value;

    public static string? GetMarker() => marker;

    public static long CurrentInterpreterId() => Interpreters.Current.Id;

    /// <summary>Runs each channel wait with a cancelled token, then with one cancelled midway; returns those that threw <see cref="OperationCanceledException"/>.</summary>
    public static async Task<string[]> CancelledChannelOperations(System.Threading.Channels.ChannelReader<int> empty, System.Threading.Channels.ChannelWriter<int> full)
    {
        var cancelled = new List<string>();
        using var already = new CancellationTokenSource();
        await already.CancelAsync();
        await Record("ReadAsync", async token => await empty.ReadAsync(token), already.Token);
        await Record("WaitToReadAsync", async token => await empty.WaitToReadAsync(token), already.Token);
        await Record("ReadAllAsync", async token => { await foreach (int item in empty.ReadAllAsync(token)) { } }, already.Token);
        await Record("WriteAsync", async token => await full.WriteAsync(2, token), already.Token);
        await Record("WaitToWriteAsync", async token => await full.WaitToWriteAsync(token), already.Token);
        await Midway("ReadAsync (midway)", async token => await empty.ReadAsync(token));
        await Midway("WaitToReadAsync (midway)", async token => await empty.WaitToReadAsync(token));
        await Midway("WriteAsync (midway)", async token => await full.WriteAsync(3, token));
        await Midway("WaitToWriteAsync (midway)", async token => await full.WaitToWriteAsync(token));
        return [.. cancelled];

        async Task Midway(string name, Func<CancellationToken, Task> operation)
        {
            using var soon = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
            await Record(name, operation, soon.Token);
        }

        async Task Record(string name, Func<CancellationToken, Task> operation, CancellationToken token)
        {
            try
            {
                await operation(token).WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
            }
            catch (OperationCanceledException)
            {
                cancelled.Add(name);
            }
        }
    }

    public static async Task ResetCounterAsync()
    {
        await Task.Yield();
        counter = 0;
    }

    public static int Add(int a, int b) => a + b;

    public static T Echo<T>(T value) => value;

    public static async Task<string> ConcatAsync(string a, string b)
    {
        await Task.Delay(1);
        return a + b;
    }

    public static ValueTask<int> DoubleAsync(int value) => ValueTask.FromResult(value * 2);

    public static Point Mirror(Point p) => new(p.Y, p.X);

    public static Shape Grow(Shape shape) => shape with { Corners = shape.Corners.Select(c => new Point(c.X * 2, c.Y * 2)).ToArray() };

    public static string Describe(Animal animal) => animal.Name;

    public static long ProcessId() => Environment.ProcessId;

    public static long InterpreterId() => Interpreters.Current.Id;

    /// <summary>In a worker: creates a process and a thread interpreter, lists, and lets the child do the same <paramref name="depth"/> - 1 levels down.</summary>
    public static async Task<NestedIds> CreateInterpretersHere(int depth)
    {
        Interpreters.SpareWorkers = 0; // This worker's own spares would only add processes to the test.
        await using Interpreter child = await Interpreters.CreateAsync();
        await using Interpreter thread = await Interpreters.CreateAsync(new InterpreterOptions { Isolation = Isolation.Thread });
        long[] listed = [.. Interpreters.ListAll().Select(i => i.Id)];
        NestedIds? deeper = depth > 1 ? await child.CallAsync(() => CreateInterpretersHere(depth - 1)) : null;
        return new NestedIds(Interpreters.Current.Id, child.Id, thread.Id, listed, deeper);
    }

    public static int Throw(string message) => throw new InvalidOperationException(message);

    public static Stream OpenStream() => new MemoryStream();

    public static int CountItems(Stream stream) => (int)stream.Length;

    public static void RunDelegate(Action action) => action();

    public static async Task<string> WaitForCancellationAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
        return "not cancelled";
    }

    public static void SleepBlocking(int milliseconds) => Thread.Sleep(milliseconds);

    private static CountdownEvent? meeting;

    /// <summary>Blocks its thread until <paramref name="parties"/> calls have arrived, or <paramref name="milliseconds"/> passed.</summary>
    public static bool MeetBlocking(int parties, int milliseconds)
    {
        CountdownEvent place = LazyInitializer.EnsureInitialized(ref meeting, () => new CountdownEvent(parties));
        place.Signal();
        return place.Wait(milliseconds);
    }

    public static int SleepThenProcessId(int milliseconds)
    {
        Thread.Sleep(milliseconds);
        return Environment.ProcessId;
    }

    public static void Exit(int code) => Environment.Exit(code);

    public static void FailFast(string message) => Environment.FailFast(message);

    /// <summary>Does a fixed amount of CPU work and tells when it started and ended (UTC ticks).</summary>
    public static long[] Spin(long iterations)
    {
        long start = DateTime.UtcNow.Ticks;
        double x = 0;
        for (long i = 0; i < iterations; i++)
        {
            x += Math.Sqrt(i);
        }

        return [start, DateTime.UtcNow.Ticks, (long)x % 2];
    }
}

/// <summary>What <see cref="TestMethods.CreateInterpretersHere"/> saw in one worker.</summary>
public sealed record NestedIds(long Current, long Child, long Thread, long[] Listed, NestedIds? Deeper);
