namespace ProcIsolates.Tests.Sandbox;

public sealed class SandboxSmokeTests
{
    [Fact]
    public async Task Strict_worker_runs_code()
    {
        await using Interpreter jail = await Interpreters.CreateAsync(new InterpreterOptions { Sandbox = SandboxOptions.Strict, StartTimeout = TimeSpan.FromSeconds(30) });
        ExecResult r = await jail.ExecAsync("Console.Write(Path.GetTempPath() + \" \" + Environment.ProcessId);");
        Assert.Contains("procisolates-worker", r.Stdout);
    }
}
