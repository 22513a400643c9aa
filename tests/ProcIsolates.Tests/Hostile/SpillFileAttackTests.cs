namespace ProcIsolates.Tests.Hostile;

/// <summary>Channel items whose spill file a worker replaced by something that is not a regular file.</summary>
public sealed class SpillFileAttackTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task An_item_naming_a_FIFO_fails_its_reader_at_once_and_the_items_after_it_still_arrive()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // mkfifo, and the worker's spill directory on a Unix file system.
        }

        InterpreterChannel<byte[]> channel = Interpreters.CreateChannel<byte[]>();
        await using Interpreter hostile = await Interpreters.CreateAsync();
        for (long number = 1_000_000; number < 1_000_002; number++)
        {
            long named = number;
            Assert.True(await hostile.CallAsync(() => HostileJobs.SendFifoReference(channel.Writer, named)));
        }

        channel.Writer.TryWrite([1, 2, 3]);

        // The host's read: opening a FIFO would wait for a writer forever; it must fail, typed, at once.
        NotShareableException error = await Assert.ThrowsAsync<NotShareableException>(() => channel.Reader.ReadAsync().AsTask().WaitAsync(Bound));
        Assert.Contains("spill file", error.Message, StringComparison.Ordinal);

        // A reader in another worker gets the same for the second one, and then the good item.
        await using Interpreter reader = await Interpreters.CreateAsync();
        string outcome = await reader.CallAsync(() => ReadTwo(channel.Reader)).WaitAsync(Bound);
        Assert.Equal("NotShareableException,3", outcome);
        Assert.Equal(3, await hostile.CallAsync(() => TestMethods.Add(1, 2)));
    }

    public static async Task<string> ReadTwo(System.Threading.Channels.ChannelReader<byte[]> reader)
    {
        string first;
        try
        {
            first = (await reader.ReadAsync()).Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (NotShareableException)
        {
            first = nameof(NotShareableException);
        }

        return first + "," + (await reader.ReadAsync()).Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
