using System.Threading.Channels;

namespace ProcIsolates.Tests.Sandbox;

/// <summary>Ordinary work for sandboxed workers: what the tour does.</summary>
public static class SandboxWork
{
    private static int recorded;

    public static int Record() => Interlocked.Increment(ref recorded);

    /// <summary>Counts primes below <paramref name="limit"/> on every core (thread-pool threads, which the sandbox allows).</summary>
    public static long ParallelPrimes(int limit) =>
        ParallelEnumerable.Range(2, limit - 2).LongCount(n => Enumerable.Range(2, (int)Math.Sqrt(n) - 1).All(d => n % d != 0));

    /// <summary>Writes <paramref name="count"/> items of <paramref name="size"/> bytes (each byte its index), then completes.</summary>
    public static async Task Produce(ChannelWriter<byte[]> output, int count, int size)
    {
        for (int i = 0; i < count; i++)
        {
            byte[] item = new byte[size];
            item.AsSpan().Fill((byte)i);
            await output.WriteAsync(item);
        }

        output.Complete();
    }

    /// <summary>Reads every item and returns the sum of their first bytes and their total length.</summary>
    public static async Task<long[]> Consume(ChannelReader<byte[]> input)
    {
        long firsts = 0, length = 0;
        await foreach (byte[] item in input.ReadAllAsync())
        {
            firsts += item[0];
            length += item.Length;
        }

        return [firsts, length];
    }

    /// <summary>Writes, reads back and deletes a file in the worker's temp directory; returns the directory.</summary>
    public static string UseTempDirectory()
    {
        string file = Path.GetTempFileName();
        File.WriteAllText(file, "scratch");
        string text = File.ReadAllText(file);
        File.Delete(file);
        return text == "scratch" ? Path.GetTempPath() : "mismatch";
    }

    public static string ReadText(string path) => File.ReadAllText(path);

    public static void WriteText(string path, string text) => File.WriteAllText(path, text);

    /// <summary>This process's effective capabilities, from /proc/self/status.</summary>
    public static string EffectiveCapabilities() =>
        File.ReadAllLines("/proc/self/status").Single(l => l.StartsWith("CapEff:", StringComparison.Ordinal))["CapEff:".Length..].Trim();

    /// <summary>The worker's cgroup paths, from /proc/self/cgroup.</summary>
    public static string[] Cgroups() => File.ReadAllLines("/proc/self/cgroup");
}
