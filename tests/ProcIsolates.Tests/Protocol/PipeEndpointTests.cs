using System.Text;
using ProcIsolates.Protocol.Transport;

namespace ProcIsolates.Tests.Protocol;

public sealed class PipeEndpointTests
{
    [Fact]
    public void Endpoints_are_unique_short_and_name_their_host()
    {
        PipeEndpoint a = PipeEndpoint.Create(7);
        PipeEndpoint b = PipeEndpoint.Create(7);
        Assert.NotEqual(a.PipeName, b.PipeName);
        if (!OperatingSystem.IsWindows())
        {
            Assert.True(Path.IsPathRooted(a.SocketPath));
            Assert.True(Encoding.UTF8.GetByteCount(a.SocketPath!) <= PipeEndpoint.MaxSocketPathBytes);
            Assert.StartsWith($"pi-{Environment.ProcessId:x}-7-", Path.GetFileName(a.SocketPath), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_socket_directory_that_makes_the_path_too_long_is_refused()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // Windows pipes have no socket path.
        }

        string longDirectory = "/tmp/" + new string('d', 120);
        var ex = Assert.Throws<PathTooLongException>(() => PipeEndpoint.Create(1, longDirectory));
        Assert.Contains("103", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deleting_a_missing_socket_file_is_harmless()
    {
        PipeEndpoint endpoint = PipeEndpoint.Create(1);
        endpoint.DeleteSocketFile();
        endpoint.DeleteSocketFile();
    }
}
