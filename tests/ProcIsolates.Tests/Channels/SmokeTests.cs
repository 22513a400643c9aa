namespace ProcIsolates.Tests.Channels;

public sealed class SmokeTests
{
    [Fact]
    public async Task Host_to_worker_to_host()
    {
        await using Interpreter worker = await Interpreters.CreateAsync();
        var input = Interpreters.CreateChannel<int>();
        var output = Interpreters.CreateChannel<int>();
        for (int i = 0; i < 1000; i++)
        {
            Assert.True(input.Writer.TryWrite(i));
        }

        input.Writer.Complete();
        int forwarded = await worker.CallAsync(() => ChannelJobs.Forward(input.Reader, output.Writer));
        Assert.Equal(1000, forwarded);
        output.Writer.Complete();
        long sum = 0;
        await foreach (int x in output.Reader.ReadAllAsync())
        {
            sum += x;
        }

        Assert.Equal(999 * 1000 / 2, sum);
        await input.Reader.Completion.WaitAsync(TimeSpan.FromSeconds(5));
    }
}
