using System.Reflection;
using System.Security.Cryptography;
using System.Threading.Channels;

namespace ProcIsolates.Tests.Channels;

/// <summary>
/// Items of 256 KiB and more (serialized) travel through spill files: they must arrive intact, once, at every isolation level, and
/// their files must go once the items are taken for good. Serial: the tests count the host's spill files.
/// </summary>
[Collection(nameof(Serial))]
public sealed class LargeItemTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Theory]
    [AllIsolations]
    public async Task Large_items_cross_between_interpreters_intact_and_leave_no_file(Isolation isolation)
    {
        var options = new InterpreterOptions { Isolation = isolation };
        await using Interpreter writer = await Interpreters.CreateAsync(options);
        await using Interpreter reader = await Interpreters.CreateAsync(options);
        InterpreterChannel<byte[]> bytes = Interpreters.CreateChannel<byte[]>(capacity: 4);
        InterpreterChannel<LargeRecord> records = Interpreters.CreateChannel<LargeRecord>();

        Task<string[]> read = reader.CallAsync(() => LargeItems.Digests(bytes.Reader, 12));
        string[] written = await writer.CallAsync(() => LargeItems.Produce(bytes.Writer, 12, 1 << 20)).WaitAsync(Timeout);
        Assert.Equal(written, await read.WaitAsync(Timeout));

        // Not a byte[]: the general path, serialized into pooled buffers and deserialized from one.
        await writer.CallAsync(() => LargeItems.WriteRecord(records.Writer, 7, 100_000)).WaitAsync(Timeout);
        Assert.Equal(Enumerable.Range(0, 100_000).Sum(i => (long)i * 7), await reader.CallAsync(() => LargeItems.SumRecord(records.Reader)).WaitAsync(Timeout));
        Assert.Empty(LargeItems.SpillFiles());
    }

    [Fact]
    public async Task In_the_host_a_peeked_item_keeps_its_file_a_read_one_frees_it_and_a_refused_write_leaves_none()
    {
        InterpreterChannel<byte[]> channel = Interpreters.CreateChannel<byte[]>(capacity: 1);
        byte[] small = RandomNumberGenerator.GetBytes(200_000); // Below the threshold: it travels whole.
        Assert.True(channel.Writer.TryWrite(small));
        Assert.Empty(LargeItems.SpillFiles());
        Assert.Equal(small, await channel.Reader.ReadAsync());

        byte[] item = RandomNumberGenerator.GetBytes(300_000);
        Assert.True(channel.Writer.TryWrite(item));
        Assert.Single(LargeItems.SpillFiles());

        Assert.False(channel.Writer.TryWrite(RandomNumberGenerator.GetBytes(300_000))); // Full: refused, its file deleted.
        Assert.Single(LargeItems.SpillFiles());

        Assert.True(channel.Reader.TryPeek(out byte[]? peeked));
        Assert.Equal(item, peeked);
        Assert.Single(LargeItems.SpillFiles());

        Assert.Equal(item, await channel.Reader.ReadAsync());
        Assert.Empty(LargeItems.SpillFiles());

        using var cancelled = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        Assert.True(channel.Writer.TryWrite(item));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => channel.Writer.WriteAsync(item, cancelled.Token).AsTask());
        Assert.Single(LargeItems.SpillFiles()); // The cancelled write's file is gone; the first item's is not.
        Assert.Equal(item, await channel.Reader.ReadAsync());
        Assert.Empty(LargeItems.SpillFiles());
    }

    [Fact]
    public async Task Concurrent_readers_in_one_worker_read_every_large_item_once_though_each_read_acknowledges_the_others()
    {
        // One reader's next fetch acknowledges the item another reader just took, so the host may delete its file
        // before that reader opens it: the worker opens each file when the item arrives.
        const int Items = 200;
        await using Interpreter reader = await Interpreters.CreateAsync();
        InterpreterChannel<byte[]> channel = Interpreters.CreateChannel<byte[]>(capacity: 8);
        Task<int[]> read = reader.CallAsync(() => LargeItems.ReadConcurrently(channel.Reader, 4));
        for (int i = 0; i < Items; i++)
        {
            await channel.Writer.WriteAsync(LargeItems.Numbered(i, 270_000)).AsTask().WaitAsync(Timeout);
        }

        channel.Writer.Complete();
        int[] numbers = await read.WaitAsync(Timeout);
        Assert.Equal(Enumerable.Range(0, Items), numbers.Order());
        Assert.Empty(LargeItems.SpillFiles());
    }

    [Fact]
    public async Task A_reader_killed_mid_stream_of_large_items_loses_and_duplicates_nothing()
    {
        const int Items = 60;
        InterpreterChannel<byte[]> input = Interpreters.CreateChannel<byte[]>();
        InterpreterChannel<int> output = Interpreters.CreateChannel<int>();
        for (int i = 0; i < Items; i++)
        {
            Assert.True(input.Writer.TryWrite(LargeItems.Numbered(i, 300_000)));
        }

        input.Writer.Complete();

        // The first forwarder is slow, so that items are in flight to it, with their files open, when it is killed.
        int[] seen = await MidStreamKill.ForwardAsync(
            Items,
            output,
            (interpreter, first) =>
            {
                int delayMs = first ? 20 : 0;
                return interpreter.CallAsync(() => LargeItems.ForwardNumbers(input.Reader, output.Writer, delayMs));
            },
            Timeout);
        Assert.All(seen, count => Assert.Equal(1, count));
        Assert.Empty(LargeItems.SpillFiles());
    }

    [Fact]
    public async Task A_worker_that_names_a_spill_file_not_its_own_is_killed_and_the_host_carries_on()
    {
        InterpreterChannel<byte[]> channel = Interpreters.CreateChannel<byte[]>();
        byte[] item = RandomNumberGenerator.GetBytes(300_000);
        Assert.True(channel.Writer.TryWrite(item)); // The host's file "h-…", which the hostile worker names.
        await using Interpreter hostile = await Interpreters.CreateAsync();

        // Exec code writes a frame by hand: a write whose item is a spilled-item reference with the host's tag.
        Task<ExecResult> attack = hostile.ExecAsync("""
            var context = Type.GetType("ProcIsolates.Worker.WorkerContext, ProcIsolates.Worker")!;
            var pipe = (System.IO.Pipelines.IDuplexPipe)context.GetProperty("ChannelData")!.GetValue(null)!;
            byte[] payload = new byte[21];
            payload[7] = 1;                                  // file number 1, key 0
            payload[18] = 0x03; payload[19] = 0x0d;          // length 781
            payload[20] = (byte)'h';                         // the host's tag
            byte[] reference = [0xc7, 21, 80, .. payload];   // ext 8, type 80
            new ProcIsolates.Protocol.Channels.ChannelFrame { Op = ProcIsolates.Protocol.Channels.ChannelOp.Write, Channel = 12345, Item = reference }.WriteTo(pipe.Output);
            await pipe.Output.FlushAsync();
            Thread.Sleep(10_000);
            """);
        InterpreterCrashedException crash = await Assert.ThrowsAsync<InterpreterCrashedException>(() => attack.WaitAsync(Timeout));
        Assert.Contains("not one of its own", crash.Message, StringComparison.Ordinal);

        // The host's item and its file are untouched.
        Assert.Single(LargeItems.SpillFiles());
        Assert.Equal(item, await channel.Reader.ReadAsync());
        Assert.Empty(LargeItems.SpillFiles());
    }

    [Fact]
    public async Task A_reference_to_a_missing_spill_file_fails_that_read_with_a_clear_error_and_the_channel_carries_on()
    {
        InterpreterChannel<byte[]> channel = Interpreters.CreateChannel<byte[]>();
        await using Interpreter writer = await Interpreters.CreateAsync();

        // Exec code writes, with its own tag (so the host accepts it), a reference to a file it never wrote.
        await writer.ExecAsync("""
            var context = Type.GetType("ProcIsolates.Worker.WorkerContext, ProcIsolates.Worker")!;
            var pipe = (System.IO.Pipelines.IDuplexPipe)context.GetProperty("ChannelData")!.GetValue(null)!;
            byte[] tag = System.Text.Encoding.ASCII.GetBytes((string)context.GetProperty("SpillTag")!.GetValue(null)!);
            byte[] payload = new byte[20 + tag.Length];
            payload[7] = 1;                                  // file number 1
            payload[18] = 0x03; payload[19] = 0x0d;          // length 781
            tag.CopyTo(payload, 20);
            byte[] reference = [0xc7, (byte)payload.Length, 80, .. payload];
            new ProcIsolates.Protocol.Channels.ChannelFrame { Op = ProcIsolates.Protocol.Channels.ChannelOp.Write, Channel = channelId, Item = reference }.WriteTo(pipe.Output);
            await pipe.Output.FlushAsync();
            await Task.Delay(200);
            """, new Dictionary<string, object?> { ["channelId"] = channel.Id }).WaitAsync(Timeout);

        NotShareableException error = await Assert.ThrowsAsync<NotShareableException>(() => channel.Reader.ReadAsync().AsTask().WaitAsync(Timeout));
        Assert.Contains("spill file", error.Message, StringComparison.Ordinal);
        Assert.IsType<FileNotFoundException>(error.InnerException);

        // The worker is not killed for it (the file is its own business), and the channel carries on.
        Assert.Equal(InterpreterState.Idle, writer.State);
        byte[] item = RandomNumberGenerator.GetBytes(300_000);
        Assert.True(channel.Writer.TryWrite(item));
        Assert.Equal(item, await channel.Reader.ReadAsync());
        Assert.Empty(LargeItems.SpillFiles());
    }
}

public sealed record LargeRecord(string Name, int[] Values);

/// <summary>What the large-item tests run in interpreters.</summary>
public static class LargeItems
{
    /// <summary>The files in the host's spill directory (read through reflection: the store is internal).</summary>
    public static string[] SpillFiles()
    {
        Type store = typeof(Interpreters).Assembly.GetType("ProcIsolates.Channels.Spill.SpillStore", throwOnError: true)!;
        string directory = (string)store.GetProperty("HostDirectory", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
        return FilesIn(directory);
    }

    /// <summary>The files of a spill directory, which the host keeps unlistable (mode 0300) on Unix.</summary>
    public static string[] FilesIn(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return Directory.GetFiles(directory);
        }

        // The host may be listing it too (a worker's session ending): it is put back as the host keeps it.
        File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            return Directory.GetFiles(directory);
        }
        finally
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    public static byte[] Numbered(int number, int size)
    {
        byte[] item = new byte[size];
        new Random(number).NextBytes(item);
        BitConverter.TryWriteBytes(item, number);
        return item;
    }

    /// <summary>Writes random items; returns their SHA-256 digests.</summary>
    public static async Task<string[]> Produce(ChannelWriter<byte[]> output, int count, int size)
    {
        var digests = new string[count];
        for (int i = 0; i < count; i++)
        {
            byte[] item = RandomNumberGenerator.GetBytes(size);
            digests[i] = Convert.ToHexString(SHA256.HashData(item));
            await output.WriteAsync(item);
        }

        output.Complete();
        return digests;
    }

    public static async Task<string[]> Digests(ChannelReader<byte[]> input, int count)
    {
        var digests = new List<string>();
        await foreach (byte[] item in input.ReadAllAsync())
        {
            digests.Add(Convert.ToHexString(SHA256.HashData(item)));
        }

        return digests.Count == count ? [.. digests] : throw new InvalidOperationException($"{digests.Count} items, not {count}.");
    }

    public static async Task WriteRecord(ChannelWriter<LargeRecord> output, int factor, int length) =>
        await output.WriteAsync(new LargeRecord("large", [.. Enumerable.Range(0, length).Select(i => i * factor)]));

    public static async Task<long> SumRecord(ChannelReader<LargeRecord> input)
    {
        LargeRecord record = await input.ReadAsync();
        return record.Name == "large" ? record.Values.Sum(v => (long)v) : -1;
    }

    /// <summary>Reads with <paramref name="readers"/> tasks at once, checking each item; returns the numbers read.</summary>
    public static async Task<int[]> ReadConcurrently(ChannelReader<byte[]> input, int readers)
    {
        var numbers = new System.Collections.Concurrent.ConcurrentBag<int>();
        await Task.WhenAll(Enumerable.Range(0, readers).Select(_ => Task.Run(async () =>
        {
            await foreach (byte[] item in input.ReadAllAsync())
            {
                int number = BitConverter.ToInt32(item);
                if (!item.AsSpan().SequenceEqual(Numbered(number, item.Length)))
                {
                    throw new InvalidOperationException($"Item {number} arrived damaged.");
                }

                numbers.Add(number);
            }
        })));
        return [.. numbers];
    }

    /// <summary>Checks each item against its number and forwards the number, slowly when asked.</summary>
    public static async Task<int> ForwardNumbers(ChannelReader<byte[]> input, ChannelWriter<int> output, int delayMs)
    {
        int forwarded = 0;
        await foreach (byte[] item in input.ReadAllAsync())
        {
            int number = BitConverter.ToInt32(item);
            if (!item.AsSpan().SequenceEqual(Numbered(number, item.Length)))
            {
                throw new InvalidOperationException($"Item {number} arrived damaged.");
            }

            await output.WriteAsync(number);
            forwarded++;
            if (delayMs > 0)
            {
                await Task.Delay(delayMs);
            }
        }

        return forwarded;
    }
}
